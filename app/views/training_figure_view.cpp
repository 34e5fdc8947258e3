#include "training_figure_view.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "colormaps.h"

namespace {

// Losses in dark greys (solid, then dashed), accuracies in green and purple: apart from the
// layers' series colours above.
QPen metricPen(bool accuracy, int index) {
  static const QColor losses[] = {QColor(60, 60, 60), QColor(140, 140, 140)};
  static const QColor accuracies[] = {QColor(0, 158, 115), QColor(204, 121, 167)};
  const QColor c = accuracy ? accuracies[index % 2] : losses[index % 2];
  return QPen(c, 1.5, index % 2 ? Qt::DashLine : Qt::SolidLine);
}

QCPGraph* addLine(QCustomPlot* plot, QCPAxis* x, QCPAxis* y, const TrainingSeries& s, const QPen& pen,
                  QCPLegend* legend) {
  QCPGraph* g = plot->addGraph(x, y);
  g->setName(s.name);
  g->setPen(pen);
  g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 4));
  for (int i = 0; i < s.steps.size() && i < s.values.size(); ++i)
    if (std::isfinite(s.steps[i]) && std::isfinite(s.values[i])) g->addData(s.steps[i], s.values[i]);
  g->removeFromLegend();
  g->addToLegend(legend);
  return g;
}

double highest(const QVector<TrainingSeries>& all, bool (*keep)(const QString&)) {
  double h = 0;
  for (const TrainingSeries& s : all)
    if (!keep || keep(s.name))
      for (double v : s.values)
        if (std::isfinite(v)) h = std::max(h, v);
  return h;
}

bool lossLike(const QString& name) { return !TrainingFigureView::isAccuracyLike(name); }

}  // namespace

bool TrainingFigureView::drawsMetric(const QString& name) {
  return name != QLatin1String("epoch") && name != QLatin1String("lr") && name != QLatin1String("learning_rate") &&
         !name.contains(QLatin1String("runtime")) && !name.contains(QLatin1String("per_second"));
}

bool TrainingFigureView::isAccuracyLike(const QString& name) { return name.contains(QLatin1String("acc")); }

TrainingFigureView::TrainingFigureView(QWidget* parent) : PlotView(parent) {
  legend->setVisible(false);  // the figure's own legend sits in a row under the panels
  // Rows: title, the ESS panel (the default axis rect), the metrics panel, the legend.
  metricsRect_ = new QCPAxisRect(this);
  plotLayout()->addElement(2, 0, metricsRect_);
  legend_ = addCentredLegendRow(3);
  plotLayout()->setRowStretchFactor(1, 1.0);
  plotLayout()->setRowStretchFactor(2, 0.8);
  plotLayout()->setRowStretchFactor(3, 0.001);
  legend_->setLayer(QStringLiteral("legend"));
  QFont lf = font();
  lf.setPointSizeF(8.5);
  legend_->setFont(lf);
  legend_->setBorderPen(Qt::NoPen);
  legend_->setBrush(Qt::NoBrush);
  legend_->setFillOrder(QCPLayoutGrid::foColumnsFirst);
  // The panels' plot areas share their left and right edges, so one step is one x position.
  auto* edges = new QCPMarginGroup(this);
  essRect()->setMarginGroup(QCP::msLeft | QCP::msRight, edges);
  metricsRect_->setMarginGroup(QCP::msLeft | QCP::msRight, edges);
  for (QCPAxis* a : metricsRect_->axes()) {
    a->setLabelFont(xAxis->labelFont());
    a->setTickLabelFont(xAxis->tickLabelFont());
  }
  xAxis->setTickLabels(false);  // the step labels are the metrics panel's
  metricsRect_->axis(QCPAxis::atBottom)->setLabel(QStringLiteral("training step"));
  metricsRect_->axis(QCPAxis::atLeft)->setLabel(QStringLiteral("loss"));
  metricsRect_->axis(QCPAxis::atRight)->setLabel(QStringLiteral("accuracy"));
  setData({}, QStringLiteral("mean tolerance-ESS"), {}, QStringLiteral("ESS over training (no run)"));
}

void TrainingFigureView::setData(const QVector<TrainingSeries>& ess, const QString& essLabel,
                                 const QVector<TrainingSeries>& metrics, const QString& title) {
  ess_ = ess;
  metrics_ = metrics;
  clearGraphs();
  legend_->clearItems();
  setTitle(title);
  QCPAxis* mx = metricsRect_->axis(QCPAxis::atBottom);
  QCPAxis* loss = metricsRect_->axis(QCPAxis::atLeft);
  QCPAxis* accuracy = metricsRect_->axis(QCPAxis::atRight);
  for (int i = 0; i < ess.size(); ++i) {
    QPen pen(colormaps::seriesColor(i), 2);
    addLine(this, xAxis, yAxis, ess[i], pen, legend_);
  }
  int losses = 0, accuracies = 0;
  for (const TrainingSeries& s : metrics) {
    const bool acc = isAccuracyLike(s.name);
    addLine(this, mx, acc ? accuracy : loss, s, metricPen(acc, acc ? accuracies++ : losses++), legend_);
  }
  yAxis->setLabel(essLabel);
  loss->setVisible(losses > 0 || accuracies == 0);
  accuracy->setVisible(accuracies > 0);
  // One step range for both panels: every point given, a little room at either end.
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto* all : {&ess, &metrics})
    for (const TrainingSeries& s : *all)
      for (double x : s.steps)
        if (std::isfinite(x)) lo = std::min(lo, x), hi = std::max(hi, x);
  if (!(lo <= hi)) lo = 0, hi = 1;
  stepLo_ = lo, stepHi_ = hi;
  const double pad = std::max(0.5, 0.03 * (hi - lo));  // widened to the tick labels in updateLayout
  for (QCPAxis* x : {xAxis, mx}) x->setRange(lo - pad, hi + pad);
  yAxis->setRange(0, std::max(1e-9, highest(ess, nullptr)) * 1.08);
  loss->setRange(0, std::max(1e-9, highest(metrics, lossLike)) * 1.08);
  accuracy->setRange(0, std::max(1.0, highest(metrics, isAccuracyLike)) * 1.02);
  replot();
}

void TrainingFigureView::updateLayout() {
  applyFigureStyle();
  // The legend's row spans the figure's width (the viewport at the size being laid out).
  fitLegendColumns(legend_, viewport().width(), std::max(1, legend_->itemCount()));
  // The panels half a tick label apart (the ESS panel's step labels are the metrics panel's):
  // their facing tick labels reach half a line beyond each panel.
  const int half = int(std::ceil(0.6 * QFontMetricsF(yAxis->tickLabelFont()).height())) + 2;
  essRect()->setAutoMargins(QCP::msLeft | QCP::msRight | QCP::msTop);
  metricsRect_->setAutoMargins(QCP::msLeft | QCP::msRight | QCP::msBottom);
  QMargins em = essRect()->margins(), mm = metricsRect_->margins();
  em.setBottom(half + std::max(0, xAxis->tickLengthOut()));
  mm.setTop(half);
  essRect()->setMargins(em);
  metricsRect_->setMargins(mm);
  PlotView::updateLayout();
  if (fitStepRange()) PlotView::updateLayout();
}

bool TrainingFigureView::fitStepRange() {
  QCPAxis* mx = metricsRect_->axis(QCPAxis::atBottom);
  const double w = metricsRect_->width();
  if (w <= 0) return false;
  // The first and last steps' labels stay inside the panel's ends, clear of the loss and
  // accuracy axes' labels at the corners.
  const QFontMetricsF fm(mx->tickLabelFont());
  double widest = fm.horizontalAdvance(QStringLiteral("000"));
  for (const QString& label : mx->tickVectorLabels()) widest = std::max(widest, fm.horizontalAdvance(label));
  const double px = std::min(0.3 * w, widest / 2 + 3);
  const double span = std::max(stepHi_ - stepLo_, 1.0);
  const double pad = std::max(0.03 * span, px * span / (w - 2 * px));
  if (std::abs(mx->range().lower - (stepLo_ - pad)) < 1e-9 * span &&
      std::abs(mx->range().upper - (stepHi_ + pad)) < 1e-9 * span)
    return false;
  for (QCPAxis* x : {xAxis, mx}) x->setRange(stepLo_ - pad, stepHi_ + pad);
  return true;
}

QString TrainingFigureView::toCsv() const {
  QString out = QStringLiteral("panel,series,step,value\n");
  const auto quoted = [](QString s) {
    return s.contains(QLatin1Char(',')) || s.contains(QLatin1Char('"'))
               ? QLatin1Char('"') + s.replace(QLatin1Char('"'), QStringLiteral("\"\"")) + QLatin1Char('"')
               : s;
  };
  for (const auto& [panel, all] :
       {std::make_pair(QStringLiteral("ess"), &ess_), std::make_pair(QStringLiteral("metrics"), &metrics_)})
    for (const TrainingSeries& s : *all)
      for (int i = 0; i < s.steps.size() && i < s.values.size(); ++i)
        out += panel + QLatin1Char(',') + quoted(s.name) + QLatin1Char(',') + csvNumber(s.steps[i]) + QLatin1Char(',') +
               csvNumber(s.values[i]) + QLatin1Char('\n');
  return out;
}
