#include "plot_view.h"

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
  titleElement_->setText(title);
}

QString PlotView::title() const { return titleElement_->text(); }

QString csvNumber(double v) {
  if (std::isnan(v)) return QStringLiteral("nan");
  if (std::isinf(v)) return v > 0 ? QStringLiteral("inf") : QStringLiteral("-inf");
  return QString::number(v, 'g', QLocale::FloatingPointShortest);
}
