#include "colormaps.h"

namespace colormaps {

QCPColorGradient viridis() {
  QCPColorGradient g;
  g.clearColorStops();
  // Samples of matplotlib's viridis at 0, 1/8, ..., 1.
  g.setColorStopAt(0.000, QColor(68, 1, 84));
  g.setColorStopAt(0.125, QColor(71, 44, 122));
  g.setColorStopAt(0.250, QColor(59, 81, 139));
  g.setColorStopAt(0.375, QColor(44, 113, 142));
  g.setColorStopAt(0.500, QColor(33, 144, 141));
  g.setColorStopAt(0.625, QColor(39, 173, 129));
  g.setColorStopAt(0.750, QColor(92, 200, 99));
  g.setColorStopAt(0.875, QColor(170, 220, 50));
  g.setColorStopAt(1.000, QColor(253, 231, 37));
  g.setColorInterpolation(QCPColorGradient::ciRGB);
  g.setLevelCount(256);
  g.setNanHandling(QCPColorGradient::nhNanColor);
  g.setNanColor(nanColor());
  return g;
}

QColor nanColor() { return QColor(255, 0, 255); }

QColor seriesColor(int index) {
  static const QColor colors[] = {QColor(0, 114, 178),   QColor(213, 94, 0),  QColor(0, 158, 115),
                                  QColor(204, 121, 167), QColor(230, 159, 0), QColor(86, 180, 233),
                                  QColor(120, 120, 120), QColor(240, 228, 66)};
  return colors[((index % 8) + 8) % 8];
}

}  // namespace colormaps
