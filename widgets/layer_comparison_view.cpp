#include "layer_comparison_view.h"

#include <QRegularExpression>
#include <algorithm>
#include <cmath>
#include <limits>

#include "colormaps.h"

LayerComparisonView::LayerComparisonView(QWidget* parent) : PlotView(parent) {
  xAxis->setLabel(QStringLiteral("head"));
  yAxis->setLabel(QStringLiteral("layer"));
  yAxis->setRangeReversed(true);
  xAxis->grid()->setVisible(false);
  yAxis->grid()->setVisible(false);
  xAxis->setTickLength(0, 0);
  yAxis->setTickLength(0, 0);
  xAxis->setSubTicks(false);
  yAxis->setSubTicks(false);

  map_ = addColorMapWithScale(&colorScale_);
  QCPColorGradient g = colormaps::viridis();
  g.setNanColor(QColor(235, 235, 235));  // missing heads: light grey, not a value
  colorScale_->setGradient(g);
  map_->setGradient(g);
  auto* group = new QCPMarginGroup(this);
  axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, group);
  colorScale_->setMarginGroup(QCP::msBottom | QCP::msTop, group);

  current_ = new QCPItemRect(this);
  current_->setPen(QPen(QColor(255, 60, 60), 2.5));
  current_->setVisible(false);
  clear();
}

void LayerComparisonView::clear() {
  layerLabels_.clear();
  values_.clear();
  valueLabel_.clear();
  setTitle(tr("layer comparison (not computed)"));
  rebuild();
}

void LayerComparisonView::setData(const QStringList& layerLabels,
                                  const QVector<QVector<double>>& values,
                                  const QString& valueLabel, const QString& title) {
  layerLabels_ = layerLabels;
  values_ = values;
  valueLabel_ = valueLabel;
  setTitle(title.isEmpty() ? tr("%1 of every layer and head").arg(valueLabel) : title);
  rebuild();
}

int LayerComparisonView::maxHeads() const {
  int h = 0;
  for (const auto& row : values_) h = std::max<int>(h, row.size());
  return h;
}

void LayerComparisonView::rebuild() {
  for (QCPItemText* t : labels_) removeItem(t);
  labels_.clear();
  const int layers = values_.size();
  const int heads = maxHeads();
  auto* data = map_->data();
  if (layers == 0 || heads == 0) {
    data->clear();
    xAxis->setRange(-0.5, 0.5);
    yAxis->setRange(-0.5, 0.5);
    colorScale_->axis()->setLabel(QString());
    current_->setVisible(false);
    replot();
    return;
  }
  // Two data cells per grid cell in each direction: QCPColorMapData places cell centres from
  // its range, which is degenerate for a single layer or head. Centres at -0.25, 0.25, ...
  // cover -0.5 .. n-0.5 exactly.
  data->setSize(2 * heads, 2 * layers);
  data->setRange(QCPRange(-0.25, heads - 0.75), QCPRange(-0.25, layers - 0.75));
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (int l = 0; l < layers; ++l)
    for (int h = 0; h < heads; ++h) {
      const double v = h < values_[l].size() ? values_[l][h] : nan;
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) data->setCell(2 * h + i, 2 * l + j, v);
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    }
  // ESS is a count: anchor the colour scale at zero, so that nearly equal heads look alike.
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  lo = std::min(lo, 0.0);
  if (hi <= lo) hi = lo + 1;
  map_->setDataRange(QCPRange(lo, hi));
  colorScale_->axis()->setLabel(valueLabel_);

  // Value labels, dark on the bright end of viridis, white on the dark end.
  if (layers * heads <= 1024) {
    for (int l = 0; l < layers; ++l)
      for (int h = 0; h < values_[l].size(); ++h) {
        const double v = values_[l][h];
        auto* t = new QCPItemText(this);
        t->position->setCoords(h, l);
        t->setText(std::isfinite(v) ? QString::number(v, 'f', v < 10 ? 2 : 1) : QStringLiteral("–"));
        const double frac = std::isfinite(v) ? (v - lo) / (hi - lo) : 0.0;
        t->setColor(frac > 0.6 ? Qt::black : Qt::white);
        t->setClipToAxisRect(true);
        labels_.append(t);
      }
  }

  // Axis ticks: layer labels on the left, head indices at the bottom.
  auto layerTicker = QSharedPointer<QCPAxisTickerText>::create();
  for (int l = 0; l < layers; ++l)
    layerTicker->addTick(l, l < layerLabels_.size() ? layerLabels_[l] : QString::number(l));
  yAxis->setTicker(layerTicker);
  auto headTicker = QSharedPointer<QCPAxisTickerText>::create();
  const int step = std::max(1, heads / 16);
  for (int h = 0; h < heads; h += step) headTicker->addTick(h, QString::number(h));
  xAxis->setTicker(headTicker);
  xAxis->setRange(-0.5, heads - 0.5);
  yAxis->setRange(-0.5, layers - 0.5);
  setCurrentHead(currentLayer_, currentHead_);
  replot();
}

void LayerComparisonView::setCurrentHead(int layer, int head) {
  currentLayer_ = layer;
  currentHead_ = head;
  const bool visible = layer >= 0 && head >= 0 && layer < values_.size() && head < values_[layer].size();
  current_->setVisible(visible);
  if (visible) {
    current_->topLeft->setCoords(head - 0.5, layer - 0.5);
    current_->bottomRight->setCoords(head + 0.5, layer + 0.5);
  }
  replot(QCustomPlot::rpQueuedReplot);
}

QPoint LayerComparisonView::cellAt(const QPointF& pos) const {
  if (!axisRect()->rect().contains(pos.toPoint())) return {-1, -1};
  const int h = int(std::lround(xAxis->pixelToCoord(pos.x())));
  const int l = int(std::lround(yAxis->pixelToCoord(pos.y())));
  if (l < 0 || l >= values_.size() || h < 0 || h >= values_[l].size()) return {-1, -1};
  return {h, l};
}

QPointF LayerComparisonView::cellCenter(int layer, int head) const {
  return {xAxis->coordToPixel(head), yAxis->coordToPixel(layer)};
}

void LayerComparisonView::mousePressEvent(QMouseEvent* event) {
  pressPos_ = event->position();
  PlotView::mousePressEvent(event);
}

void LayerComparisonView::mouseReleaseEvent(QMouseEvent* event) {
  if (event->button() == Qt::LeftButton && (event->position() - pressPos_).manhattanLength() <= 3) {
    const QPoint cell = cellAt(event->position());
    if (cell.x() >= 0) emit headActivated(cell.y(), cell.x());
  }
  PlotView::mouseReleaseEvent(event);
}

void LayerComparisonView::mouseMoveEvent(QMouseEvent* event) {
  const QPoint cell = cellAt(event->position());
  if (cell.x() >= 0) {
    const QString layer = cell.y() < layerLabels_.size() ? layerLabels_[cell.y()] : QString::number(cell.y());
    emit hoverChanged(tr("layer %1, head %2: %3 = %4 (click to open)")
                          .arg(layer)
                          .arg(cell.x())
                          .arg(valueLabel_)
                          .arg(values_[cell.y()][cell.x()], 0, 'g', 5));
    setCursor(Qt::PointingHandCursor);
  } else {
    unsetCursor();
  }
  PlotView::mouseMoveEvent(event);
}

void LayerComparisonView::resizeEvent(QResizeEvent* event) { PlotView::resizeEvent(event); }

QString LayerComparisonView::toCsv() const {
  // Third column named after the value: "mean tolerance-ESS" -> mean_tolerance_ess.
  QString column = valueLabel_.toLower();
  column.replace(QRegularExpression(QStringLiteral("[^a-z0-9]+")), QStringLiteral("_"));
  column = column.trimmed();
  while (column.startsWith(QLatin1Char('_'))) column.remove(0, 1);
  while (column.endsWith(QLatin1Char('_'))) column.chop(1);
  if (column.isEmpty()) column = QStringLiteral("value");
  QString out = QStringLiteral("layer,head,") + column + QLatin1Char('\n');
  for (int l = 0; l < values_.size(); ++l)
    for (int h = 0; h < values_[l].size(); ++h)
      out += QString::number(l) + QLatin1Char(',') + QString::number(h) + QLatin1Char(',') +
             csvNumber(values_[l][h]) + QLatin1Char('\n');
  return out;
}
