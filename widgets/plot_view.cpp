#include "plot_view.h"

#include <QFontMetrics>
#include <QImage>
#include <algorithm>
#include <cmath>

PlotView::PlotView(QWidget* parent) : QCustomPlot(parent) {
  setBackground(Qt::white);
  QFont labelFont = font();
  labelFont.setPointSizeF(10);
  QFont tickFont = font();
  tickFont.setPointSizeF(9);
  for (QCPAxis* axis : {xAxis, yAxis, xAxis2, yAxis2}) {
    axis->setLabelFont(labelFont);
    axis->setTickLabelFont(tickFont);
  }
  plotLayout()->insertRow(0);
  QFont titleFont = font();
  titleFont.setPointSizeF(10.5);
  titleFont.setBold(true);
  titleElement_ = new QCPTextElement(this, QString(), titleFont);
  plotLayout()->addElement(0, 0, titleElement_);
  setMouseTracking(true);
}

void PlotView::setSplitPoint(SplitPoint* split) {
  if (splitPoint_) disconnect(splitPoint_, nullptr, this, nullptr);
  splitPoint_ = split;
  if (split) {
    connect(split, &SplitPoint::splitChanged, this, [this](int s) { onSplitChanged(s); });
    connect(split, &SplitPoint::lengthChanged, this, [this](int l) { onLengthChanged(l); });
    onLengthChanged(split->length());
    onSplitChanged(split->split());
  }
}

QCPColorMap* PlotView::addColorMapWithScale(QCPColorScale** scale) {
  auto* map = new QCPColorMap(xAxis, yAxis);
  map->setInterpolate(false);
  map->setTightBoundary(false);
  auto* colorScale = new QCPColorScale(this);
  plotLayout()->addElement(1, 1, colorScale);
  colorScale->setType(QCPAxis::atRight);
  colorScale->setBarWidth(14);
  colorScale->axis()->setLabelFont(xAxis->labelFont());
  colorScale->axis()->setTickLabelFont(xAxis->tickLabelFont());
  map->setColorScale(colorScale);
  *scale = colorScale;
  return map;
}

void PlotView::setTitle(const QString& title) {
  fullTitle_ = title;
  titleElement_->setText(title);
}

QString PlotView::title() const { return fullTitle_; }

void PlotView::updateLayout() {
  // Widths on screen and on an export image (96 dpi) differ when the screen's logical dpi is
  // not 96 (the offscreen platform of `ess render`), and bold text painted on an image runs
  // up to a fifth wider than measured there: wrap for the wider, with that margin.
  static const QImage probe = [] {
    QImage image(1, 1, QImage::Format_ARGB32);
    image.setDotsPerMeterX(3780);  // 96 dpi, as figure export paints
    image.setDotsPerMeterY(3780);
    return image;
  }();
  const QFontMetrics onScreen(titleElement_->font()), onImage(titleElement_->font(), &probe);
  const auto width = [&](const QString& s) {
    return 1.2 * std::max(onScreen.horizontalAdvance(s), onImage.horizontalAdvance(s));
  };
  const double available = std::max(80, viewport().width() - 16);
  QStringList lines;
  for (const QString& paragraph : fullTitle_.split(QLatin1Char('\n'))) {
    QString line;
    for (const QString& word : paragraph.split(QLatin1Char(' '))) {
      const QString longer = line.isEmpty() ? word : line + QLatin1Char(' ') + word;
      if (!line.isEmpty() && width(longer) > available) {
        lines << line;
        line = word;
      } else {
        line = longer;
      }
    }
    lines << line;
  }
  // A word longer than the plot (a long folder name) is cut in its middle.
  for (QString& l : lines)
    if (width(l) > available) {
      const double imageToScreen =
          std::max(1.0, double(onImage.horizontalAdvance(l)) / std::max(1, onScreen.horizontalAdvance(l)));
      l = onScreen.elidedText(l, Qt::ElideMiddle, int(available / 1.2 / imageToScreen));
    }
  const QString wrapped = lines.join(QLatin1Char('\n'));
  if (titleElement_->text() != wrapped) titleElement_->setText(wrapped);
  QCustomPlot::updateLayout();
}

QString csvNumber(double v) {
  if (std::isnan(v)) return QStringLiteral("nan");
  if (std::isinf(v)) return v > 0 ? QStringLiteral("inf") : QStringLiteral("-inf");
  return QString::number(v, 'g', QLocale::FloatingPointShortest);
}
