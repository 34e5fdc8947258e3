#include "spectrum_view.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "colormaps.h"

SpectrumView::SpectrumView(QWidget* parent) : PlotView(parent) {
  xAxis->setLabel(QStringLiteral("index k"));
  // k is an integer: ticks at whole multiples of 1 (never 0.5, 1.5, ... when zoomed in).
  xAxis->setTicker(QSharedPointer<IndexTicker>::create());
  yAxis->setLabel(QStringLiteral("singular value σₖ of H_s"));
  yAxis->setScaleType(QCPAxis::stLogarithmic);
  yAxis->setTicker(QSharedPointer<DecadeTicker>::create());
  yAxis->setNumberFormat(QStringLiteral("eb"));
  yAxis->setNumberPrecision(0);
  yAxis->grid()->setSubGridVisible(true);

  graph_ = addGraph();
  graph_->setPen(QPen(colormaps::seriesColor(0), 1.5));
  graph_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, colormaps::seriesColor(0), Qt::white, 5));
  graph_->setName(tr("σₖ"));

  thresholdLine_ = new QCPItemStraightLine(this);
  thresholdLine_->setPen(QPen(QColor(255, 60, 60), 1.5, Qt::DashLine));
  thresholdLabel_ = new QCPItemText(this);
  thresholdLabel_->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
  thresholdLabel_->position->setTypeY(QCPItemPosition::ptPlotCoords);
  thresholdLabel_->position->setAxisRect(axisRect());
  thresholdLabel_->position->setAxes(xAxis, yAxis);
  thresholdLabel_->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
  thresholdLabel_->setColor(QColor(200, 30, 30));
  thresholdLabel_->setBrush(QBrush(QColor(255, 255, 255, 210)));  // readable over the data

  setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  baseTitle_ = tr("singular values of H_s");
  clear();
}

void SpectrumView::clear() {
  dataSplit_ = 0;
  sigma_.clear();
  cut_ = SpectrumCut();
  refresh();
}

void SpectrumView::setSpectrum(int split, const QVector<double>& sigma, SpectrumCut cut, const QString& title) {
  dataSplit_ = split;
  sigma_ = sigma;
  cut_ = cut;
  baseTitle_ = title.isEmpty() ? tr("singular values of H_s") : title;
  refresh();
}

void SpectrumView::setTolerance(double tolerance, Reference reference) {
  tolerance_ = tolerance;
  reference_ = reference;
  refresh();
}

void SpectrumView::onSplitChanged(int) { refresh(); }

void SpectrumView::refresh() {
  QVector<double> k, v;
  int zeros = 0;
  for (int i = 0; i < sigma_.size(); ++i) {
    if (sigma_[i] > 0 && std::isfinite(sigma_[i])) {
      k.append(i + 1);
      v.append(sigma_[i]);
    } else {
      ++zeros;  // a log axis cannot show 0: counted in the title instead
    }
  }
  graph_->setData(k, v, true);
  const double t = threshold();
  const bool haveData = dataSplit_ > 0 && !sigma_.isEmpty(), haveCut = cut_.count >= 0;
  thresholdLine_->setVisible(haveData && haveCut && t > 0);
  thresholdLabel_->setVisible(haveData && haveCut && t > 0);
  if (haveCut && t > 0) {
    thresholdLine_->point1->setCoords(0, t);
    thresholdLine_->point2->setCoords(1, t);
    const QString ref = reference_ == Reference::Max   ? QStringLiteral(" × σ₁")
                        : reference_ == Reference::Sum ? QStringLiteral(" × Σσ")
                                                       : QString();
    thresholdLabel_->position->setCoords(0.99, t);
    thresholdLabel_->setText(tr("threshold %1%2 = %3").arg(tolerance_, 0, 'g', 3).arg(ref).arg(t, 0, 'g', 3));
  }
  resetView();

  QString text;
  if (!haveData) {
    text = baseTitle_;
  } else if (haveCut) {
    text = tr("singular values of H_%1: %2 of %3 above threshold")
               .arg(dataSplit_)
               .arg(countAboveThreshold())
               .arg(sigma_.size());
  } else {
    text = tr("singular values of H_%1").arg(dataSplit_);
  }
  if (haveData) {
    if (zeros > 0) text += tr(" (%1 zero, not drawn)").arg(zeros);
    if (currentSplit() > 0 && currentSplit() != dataSplit_) text += tr(" [updating…]");
    if (baseTitle_ != tr("singular values of H_s")) text += QLatin1Char('\n') + baseTitle_;
  }
  setTitle(text);
  replot(QCustomPlot::rpQueuedReplot);
}

void SpectrumView::resetView() {
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (double v : sigma_)
    if (v > 0 && std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  const double t = threshold();
  if (dataSplit_ > 0 && !sigma_.isEmpty()) {
    if (!std::isfinite(lo)) lo = hi = 1;
    if (cut_.count >= 0 && t > 0) lo = std::min(lo, t), hi = std::max(hi, t);
    yAxis->setRange(lo / 3.0, hi * 3.0);
    xAxis->setRange(0.5, std::max<double>(sigma_.size(), 1) + 0.5);
  } else {
    yAxis->setRange(1e-3, 1);
    xAxis->setRange(0, 1);
  }
}

void SpectrumView::mouseDoubleClickEvent(QMouseEvent* event) {
  resetView();
  replot();
  PlotView::mouseDoubleClickEvent(event);
}

void SpectrumView::mouseMoveEvent(QMouseEvent* event) {
  if (!sigma_.isEmpty() && axisRect()->rect().contains(event->pos())) {
    const int i = int(std::lround(xAxis->pixelToCoord(event->position().x()))) - 1;
    if (i >= 0 && i < sigma_.size())
      emit hoverChanged(tr("σ%1 = %2 (σ/σ₁ = %3)")
                            .arg(i + 1)
                            .arg(sigma_[i], 0, 'g', 6)
                            .arg(sigma_[0] > 0 ? sigma_[i] / sigma_[0] : 0.0, 0, 'g', 3));
  }
  PlotView::mouseMoveEvent(event);
}

QString SpectrumView::toCsv() const {
  QString out = QStringLiteral("split,k,sigma,above_threshold\n");
  // The count covers the largest values: sigma is descending.
  for (int i = 0; i < sigma_.size(); ++i)
    out += QString::number(dataSplit_) + QLatin1Char(',') + QString::number(i + 1) + QLatin1Char(',') +
           csvNumber(sigma_[i]) + QLatin1Char(',') +
           (sigma_[i] > cut_.threshold && cut_.count >= 0 ? QStringLiteral("1") : QStringLiteral("0")) +
           QLatin1Char('\n');
  return out;
}
