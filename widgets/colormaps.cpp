#include "colormaps.h"

namespace colormaps {
namespace {

// Samples of the map at 0, 1/(n-1), ..., 1.
QCPColorGradient fromSamples(std::initializer_list<QColor> samples) {
  QCPColorGradient g;
  g.clearColorStops();
  const int n = int(samples.size());
  int i = 0;
  for (const QColor& c : samples) g.setColorStopAt(double(i++) / (n - 1), c);
  g.setColorInterpolation(QCPColorGradient::ciRGB);
  g.setLevelCount(256);
  g.setNanHandling(QCPColorGradient::nhNanColor);
  g.setNanColor(nanColor());
  return g;
}

}  // namespace

QCPColorGradient viridis() {
  return fromSamples({QColor(68, 1, 84), QColor(71, 44, 122), QColor(59, 81, 139), QColor(44, 113, 142),
                      QColor(33, 144, 141), QColor(39, 173, 129), QColor(92, 200, 99), QColor(170, 220, 50),
                      QColor(253, 231, 37)});
}

QCPColorGradient gradient(Map map) {
  switch (map) {
    case Map::Viridis:
      return viridis();
    case Map::Magma:
      return fromSamples({QColor(0, 0, 4), QColor(28, 16, 68), QColor(79, 18, 123), QColor(129, 37, 129),
                          QColor(181, 54, 122), QColor(229, 80, 100), QColor(251, 135, 97), QColor(254, 194, 135),
                          QColor(252, 253, 191)});
    case Map::Cividis:
      return fromSamples({QColor(0, 34, 78), QColor(35, 59, 110), QColor(68, 82, 108), QColor(98, 103, 111),
                          QColor(125, 124, 120), QColor(153, 146, 119), QColor(183, 169, 111), QColor(217, 194, 93),
                          QColor(254, 232, 56)});
    case Map::Diverging:
      // ColorBrewer RdBu (11 classes), reversed: blue below 0, white at 0, red above.
      return fromSamples({QColor(5, 48, 97), QColor(33, 102, 172), QColor(67, 147, 195), QColor(146, 197, 222),
                          QColor(209, 229, 240), QColor(247, 247, 247), QColor(253, 219, 199), QColor(244, 165, 130),
                          QColor(214, 96, 77), QColor(178, 24, 43), QColor(103, 0, 31)});
  }
  return viridis();
}

QString name(Map map) {
  switch (map) {
    case Map::Viridis:
      return QStringLiteral("viridis");
    case Map::Magma:
      return QStringLiteral("magma");
    case Map::Cividis:
      return QStringLiteral("cividis");
    case Map::Diverging:
      return QStringLiteral("diverging");
  }
  return QStringLiteral("viridis");
}

bool fromName(const QString& text, Map* map) {
  for (Map m : {Map::Viridis, Map::Magma, Map::Cividis, Map::Diverging})
    if (text == name(m)) {
      *map = m;
      return true;
    }
  return false;
}

QColor nanColor() { return QColor(255, 0, 255); }

QColor maskColor() { return QColor(190, 190, 190); }

QColor seriesColor(int index) {
  static const QColor colors[] = {QColor(0, 114, 178),   QColor(213, 94, 0),  QColor(0, 158, 115),
                                  QColor(204, 121, 167), QColor(230, 159, 0), QColor(86, 180, 233),
                                  QColor(120, 120, 120), QColor(240, 228, 66)};
  return colors[((index % 8) + 8) % 8];
}

}  // namespace colormaps
