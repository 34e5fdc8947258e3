#include "ess_curve_view.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "colormaps.h"

EssCurveView::EssCurveView(QWidget* parent) : PlotView(parent) {
  xAxis->setLabel(QStringLiteral("split s"));
  xAxis->setTicker(QSharedPointer<IndexTicker>::create());
  yAxis->setLabel(QStringLiteral("effective state-size"));
  legend->setVisible(true);
  QFont lf = font();
  lf.setPointSizeF(8.5);
  legend->setFont(lf);
  legend->setBrush(QColor(255, 255, 255, 220));
  // Below the plot, where it hides no data; as many columns as fit (updateLayout).
  axisRect()->insetLayout()->take(legend);
  axisRect()->insetLayout()->simplify();
  // Centred between two spacers: a legend's width limit would otherwise bound the column.
  auto* legendRow = new QCPLayoutGrid;
  plotLayout()->addElement(2, 0, legendRow);
  plotLayout()->setRowStretchFactor(2, 0.001);
  legendRow->setColumnSpacing(0);
  for (int c : {0, 2}) {
    auto* spacer = new QCPLayoutElement(this);
    spacer->setMaximumSize(QWIDGETSIZE_MAX, 0);
    legendRow->addElement(0, c, spacer);
  }
  legendRow->addElement(0, 1, legend);
  legend->setBorderPen(Qt::NoPen);
  legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);

  cursor_ = new QCPItemStraightLine(this);
  cursor_->setPen(QPen(QColor(255, 60, 60), 1.5, Qt::SolidLine));
  cursor_->setVisible(false);
  cursorLabel_ = new QCPItemText(this);
  cursorLabel_->position->setTypeX(QCPItemPosition::ptPlotCoords);
  cursorLabel_->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
  cursorLabel_->position->setAxisRect(axisRect());
  cursorLabel_->position->setAxes(xAxis, yAxis);
  cursorLabel_->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
  cursorLabel_->setColor(QColor(200, 30, 30));
  cursorLabel_->setPadding(QMargins(3, 2, 3, 2));
  cursorLabel_->setVisible(false);

  axisRect()->setRangeZoom(Qt::Horizontal);
  setInteractions(QCP::iRangeZoom);
  clear();
}

void EssCurveView::clear() {
  series_.clear();
  clearGraphs();
  baseTitle_ = tr("ESS curve");
  setTitle(baseTitle_);
  updateCursor();
  replot();
}

void EssCurveView::setSeries(const QVector<EssSeries>& series, const QString& title) {
  series_ = series;
  baseTitle_ = title.isEmpty() ? tr("ESS curve") : title;
  clearGraphs();
  const bool several = series.size() > 1;
  for (int i = 0; i < series.size(); ++i) {
    const EssSeries& s = series[i];
    const QColor color = several ? colormaps::seriesColor(i) : colormaps::seriesColor(0);

    // With several heads the legend names each head once (tolerance-ESS, solid) and the line
    // styles once (entropy-ESS dashed, TSS dotted), instead of three entries per head.
    QCPGraph* tol = addGraph();
    const QString total = s.isTotal() ? tr("total ") : QString();
    tol->setName(several ? s.name + tr(": tolerance-ESS") : total + tr("tolerance-ESS"));
    tol->setPen(QPen(color, i == 0 ? 2.0 : 1.3));
    tol->setData(s.splits, s.tolerance, true);

    QCPGraph* ent = addGraph();
    ent->setName(several ? tr("entropy-ESS (dashed)") : total + tr("entropy-ESS"));
    if (several && i > 0) ent->removeFromLegend();
    ent->setPen(QPen(several ? color : colormaps::seriesColor(1), i == 0 ? 2.0 : 1.3, Qt::DashLine));
    ent->setData(s.splits, s.entropy, true);

    bool anyTss = false;
    for (double v : s.tss) anyTss = anyTss || std::isfinite(v);
    if (anyTss) {
      // QCPGraph leaves gaps at NaN, so unknown TSS values are skipped.
      QCPGraph* tss = addGraph();
      tss->setName(several ? tr("theoretical state size (dotted)") : total + tr("theoretical state size"));
      if (several && i > 0) tss->removeFromLegend();
      tss->setPen(QPen(several ? color.darker(130) : QColor(90, 90, 90), 1.3, Qt::DotLine));
      tss->setData(s.splits, s.tss, true);
    }
  }
  resetView();
  updateCursor();
  replot();
}

void EssCurveView::resetView() {
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin;
  double essMax = 0, tssMax = 0;
  for (const EssSeries& s : series_) {
    for (double x : s.splits) xmin = std::min(xmin, x), xmax = std::max(xmax, x);
    for (double v : s.tolerance)
      if (std::isfinite(v)) essMax = std::max(essMax, v);
    for (double v : s.entropy)
      if (std::isfinite(v)) essMax = std::max(essMax, v);
    for (double v : s.tss)
      if (std::isfinite(v)) tssMax = std::max(tssMax, v);
  }
  if (!std::isfinite(xmin)) {
    xmin = 0;
    xmax = std::max(1, length_ - 1);
  }
  if (length_ >= 2) xmin = std::min(xmin, 1.0), xmax = std::max(xmax, double(length_ - 1));
  xAxis->setRange(xmin - 0.5, xmax + 0.5);
  // Every line drawn lies inside the range, the TSS included.
  double ymax = std::max(essMax, tssMax);
  if (ymax <= 0) ymax = 1;
  yAxis->setRange(0, ymax * 1.12);
}

void EssCurveView::updateLayout() {
  applyFigureStyle();
  fitLegendColumns(legend, viewport().width(), 3);
  PlotView::updateLayout();
}

void EssCurveView::onLengthChanged(int length) {
  length_ = length;
  updateCursor();
}

void EssCurveView::onSplitChanged(int) {
  updateCursor();
  replot(QCustomPlot::rpQueuedReplot);
}

double EssCurveView::cursorPosition() const {
  if (!cursor_->visible()) return std::numeric_limits<double>::quiet_NaN();
  return cursor_->point1->coords().x();
}

int EssCurveView::splitAt(double pixelX) const {
  const int hi = std::max(1, (splitPoint() ? splitPoint()->length() : length_) - 1);
  return std::clamp(static_cast<int>(std::lround(xAxis->pixelToCoord(pixelX))), 1, hi);
}

QString EssCurveView::readout(int split) const {
  if (series_.isEmpty()) return QString();
  const EssSeries& s = series_.first();
  if (s.splits.isEmpty()) return QString();
  // Nearest evaluated split (curves may be strided).
  int best = 0;
  for (int i = 1; i < s.splits.size(); ++i)
    if (std::abs(s.splits[i] - split) < std::abs(s.splits[best] - split)) best = i;
  const auto at = [best](const QVector<double>& v) {
    return best < v.size() ? v[best] : std::numeric_limits<double>::quiet_NaN();
  };
  if (s.isTotal() && std::isfinite(at(s.tss))) {
    // Totals run to thousands: a compact line, "tolerance-ESS / TSS (utilization)" first.
    QString text = tr("s = %1: ESS %2 / TSS %3")
                       .arg(int(s.splits[best]))
                       .arg(at(s.tolerance), 0, 'g', 6)
                       .arg(at(s.tss), 0, 'g', 6);
    if (std::isfinite(at(s.utilization))) text += tr(" (%1 %)").arg(100.0 * at(s.utilization), 0, 'f', 1);
    return text + tr("; entropy %1").arg(at(s.entropy), 0, 'f', 1);
  }
  QString text = tr("s = %1: tolerance-ESS %2, entropy-ESS %3")
                     .arg(int(s.splits[best]))
                     .arg(at(s.tolerance), 0, 'g', 4)
                     .arg(at(s.entropy), 0, 'f', 2);
  if (std::isfinite(at(s.tss))) text += tr(", TSS %1").arg(at(s.tss), 0, 'g', 6);
  if (std::isfinite(at(s.utilization))) text += tr(" (%1 %)").arg(100.0 * at(s.utilization), 0, 'f', 1);
  return text;
}

void EssCurveView::updateCursor() {
  const int s = currentSplit();
  const bool visible = s >= 1;
  cursor_->setVisible(visible);
  cursorLabel_->setVisible(visible);
  if (!visible) {
    setTitle(baseTitle_);
    return;
  }
  cursor_->point1->setCoords(s, 0);
  cursor_->point2->setCoords(s, 1);
  cursorLabel_->position->setCoords(s, 1.0);  // bottom of the plot, clear of the legend
  // Right of the cursor in the left half, left of it in the right half: never cut at an edge.
  const QCPRange x = xAxis->range();
  cursorLabel_->setPositionAlignment((s > x.center() ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignBottom);
  cursorLabel_->setText(QStringLiteral("s = %1").arg(s));
  const QString r = readout(s);
  setTitle(r.isEmpty() ? baseTitle_ : baseTitle_ + QStringLiteral("\n") + r);
}

void EssCurveView::mousePressEvent(QMouseEvent* event) {
  splitBeforeClick_ = currentSplit();
  if (event->button() == Qt::LeftButton && axisRect()->rect().contains(event->pos()) &&
      (splitPoint() ? splitPoint()->isValid() : length_ >= 2)) {
    dragging_ = true;
    emit splitRequested(splitAt(event->position().x()));
    event->accept();
    return;
  }
  PlotView::mousePressEvent(event);
}

void EssCurveView::mouseMoveEvent(QMouseEvent* event) {
  if (dragging_) {
    emit splitRequested(splitAt(event->position().x()));
    event->accept();
    return;
  }
  if (axisRect()->rect().contains(event->pos()) && !series_.isEmpty())
    emit hoverChanged(readout(splitAt(event->position().x())));
  PlotView::mouseMoveEvent(event);
}

void EssCurveView::mouseReleaseEvent(QMouseEvent* event) {
  if (dragging_) {
    dragging_ = false;
    event->accept();
    return;
  }
  PlotView::mouseReleaseEvent(event);
}

void EssCurveView::mouseDoubleClickEvent(QMouseEvent* event) {
  // A double-click resets the zoom and nothing else: its first click's split is undone.
  if (splitBeforeClick_ >= 1 && currentSplit() != splitBeforeClick_) emit splitRequested(splitBeforeClick_);
  resetView();
  replot();
  PlotView::mouseDoubleClickEvent(event);
}

void EssCurveView::leaveEvent(QEvent* event) {
  emit hoverChanged(QString());
  PlotView::leaveEvent(event);
}

QString EssCurveView::toCsv() const {
  bool anyTotal = false;
  bool anyCheckpoint = false;
  for (const EssSeries& s : series_)
    anyTotal = anyTotal || s.isTotal(), anyCheckpoint = anyCheckpoint || !s.checkpoint.isEmpty();
  QString out = anyCheckpoint ? QStringLiteral("checkpoint,step,") : QString();
  out += QStringLiteral("series,split,tolerance_ess,entropy_ess,tss");
  out += anyTotal ? QStringLiteral(",utilization\n") : QStringLiteral("\n");
  for (const EssSeries& s : series_) {
    for (int i = 0; i < s.splits.size(); ++i) {
      const auto at = [i](const QVector<double>& v) {
        return i < v.size() && !std::isnan(v[i]) ? csvNumber(v[i]) : QString();
      };
      if (anyCheckpoint) out += s.checkpoint + QLatin1Char(',') + csvStep(s.step) + QLatin1Char(',');
      out += s.name + QLatin1Char(',') + csvNumber(s.splits[i]) + QLatin1Char(',') + at(s.tolerance) +
             QLatin1Char(',') + at(s.entropy) + QLatin1Char(',') + at(s.tss) +
             (anyTotal ? QLatin1Char(',') + at(s.utilization) : QString()) + QLatin1Char('\n');
    }
  }
  return out;
}
