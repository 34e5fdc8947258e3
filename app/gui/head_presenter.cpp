#include "head_presenter.h"

#include <QDir>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "comparison.h"
#include "document.h"
#include "ess_curve_view.h"
#include "heatmap_view.h"
#include "selection.h"
#include "spectrum_view.h"
#include "split_point.h"
#include "titles.h"
#include "view_data.h"

namespace {
// One spelling per file: the run's paths and the document's may differ in `./`, `//` or relativity.
QString samePath(const QString& path) { return QDir::cleanPath(QFileInfo(path).absoluteFilePath()); }
}  // namespace

HeadPresenter::HeadPresenter(Document* document, Selection* selection, SplitPoint* split, QWidget* window)
    : TabPresenter(document, selection, split, window) {
  heatmap_ = new HeatmapView(window);
  curve_ = new EssCurveView(window);
  spectrum_ = new SpectrumView(window);
  for (PlotView* v : views()) v->setSplitPoint(split_);

  // heatmap | (curve / spectrum), split controls below.
  auto* page = new QWidget(window);
  auto* layout = new QVBoxLayout(page);
  layout->setContentsMargins(2, 2, 2, 2);
  auto* right = new QSplitter(Qt::Vertical, page);
  right->addWidget(curve_);
  right->addWidget(spectrum_);
  right->setSizes({450, 350});
  auto* main = new QSplitter(Qt::Horizontal, page);
  main->addWidget(heatmap_);
  main->addWidget(right);
  main->setStretchFactor(0, 11);
  main->setStretchFactor(1, 9);
  main->setSizes({620, 500});
  layout->addWidget(main, 1);

  auto* splitRow = new QHBoxLayout;
  auto* splitLabel = new QLabel(tr("Split s:"), page);
  slider_ = new QSlider(Qt::Horizontal, page);
  slider_->setRange(0, 0);
  slider_->setToolTip(tr("Split s: H_s = T[s:, :s]. Left/Right arrows move it, Shift for 10."));
  splitSpin_ = new QSpinBox(page);
  splitSpin_->setRange(0, 0);
  splitSpin_->setMinimumWidth(80);
  splitLabel->setBuddy(splitSpin_);
  splitRow->addWidget(splitLabel);
  splitRow->addWidget(slider_, 1);
  splitRow->addWidget(splitSpin_);
  layout->addLayout(splitRow);

  // Scrubbing through training: each position opens that checkpoint (Document drops the work of
  // the one before); hidden until a run is open.
  checkpointRow_ = new QWidget(page);
  auto* checkpointRow = new QHBoxLayout(checkpointRow_);
  checkpointRow->setContentsMargins(0, 0, 0, 0);
  auto* checkpointTitle = new QLabel(tr("Checkpoint:"), checkpointRow_);
  checkpointSlider_ = new QSlider(Qt::Horizontal, checkpointRow_);
  checkpointSlider_->setRange(0, 0);
  checkpointSlider_->setPageStep(1);
  checkpointSlider_->setToolTip(tr("Scrub through the run's checkpoints; layer, head, split and input stay"));
  checkpointLabel_ = new QLabel(checkpointRow_);
  checkpointLabel_->setMinimumWidth(120);
  checkpointTitle->setBuddy(checkpointSlider_);
  checkpointRow->addWidget(checkpointTitle);
  checkpointRow->addWidget(checkpointSlider_, 1);
  checkpointRow->addWidget(checkpointLabel_);
  checkpointRow_->setVisible(false);
  layout->addWidget(checkpointRow_);
  setPage(page);
  connect(checkpointSlider_, &QSlider::valueChanged, this, [this](int index) {
    if (index < 0 || index >= checkpointPaths_.size()) return;
    checkpointLabel_->setText(checkpointNames_[index]);
    if (samePath(checkpointPaths_[index]) != samePath(document_->path()))
      emit checkpointRequested(checkpointPaths_[index]);
  });

  connect(slider_, &QSlider::valueChanged, split_, &SplitPoint::setSplit);
  connect(splitSpin_, qOverload<int>(&QSpinBox::valueChanged), split_, &SplitPoint::setSplit);
  connect(split_, &SplitPoint::lengthChanged, this, [this](int) {
    const QSignalBlocker b1(slider_), b2(splitSpin_);
    slider_->setRange(split_->minimum(), split_->maximum());
    splitSpin_->setRange(split_->minimum(), split_->maximum());
    slider_->setPageStep(10);
    slider_->setValue(split_->split());
    splitSpin_->setValue(split_->split());
  });
  connect(split_, &SplitPoint::splitChanged, this, &HeadPresenter::onSplitChanged);
  connect(heatmap_, &HeatmapView::tileRequested, this, &HeadPresenter::onTileRequested);

  connect(selection_, &Selection::changed, this, &HeadPresenter::onSelectionChanged);
  connect(document_, &Document::inputChanged, this, &HeadPresenter::onInputChanged);
  connect(document_, &Document::optionsChanged, this, &HeadPresenter::onOptionsChanged);
  connect(document_, &Document::operatorReady, this, &HeadPresenter::onOperatorReady);
  connect(document_, &Document::curveReady, this, &HeadPresenter::onCurveReady);
  connect(document_, &Document::groupOperatorReady, this, &HeadPresenter::onGroupOperatorReady);
  connect(document_, &Document::tileReady, this, &HeadPresenter::onTileReady);
  connect(document_, &Document::tileFailed, this, &HeadPresenter::onTileFailed);
  connect(document_, &Document::spectrumReady, this, &HeadPresenter::onSpectrumReady);
}

QList<PlotView*> HeadPresenter::views() const { return {heatmap_, curve_, spectrum_}; }

QStringList HeadPresenter::exportNames() const {
  return {tr("Heatmap of T"), tr("ESS curve"), tr("Singular values of H_s")};
}

PlotView* HeadPresenter::exportPreselection(PlotView* lastClicked) const {
  return lastClicked == curve_ || lastClicked == spectrum_ ? lastClicked : heatmap_;
}

QString HeadPresenter::exportName(PlotView* view, const QString& base, const QString& suffix) const {
  QString stem = selectionStem(base);
  if (view == spectrum_) stem += QStringLiteral("_s%1").arg(split_->split());
  return stem + QLatin1Char('_') + view->figureName() + QLatin1Char('.') + suffix;
}

void HeadPresenter::setCheckpoints(const QStringList& paths, const QStringList& names) {
  checkpointPaths_ = paths;
  checkpointNames_ = names;
  checkpointRow_->setVisible(!paths.isEmpty());
  const QSignalBlocker block(checkpointSlider_);
  checkpointSlider_->setRange(0, std::max<int>(0, int(paths.size()) - 1));
  syncCheckpointSlider();
}

void HeadPresenter::syncCheckpointSlider() {
  int index = -1;
  for (int i = 0; i < checkpointPaths_.size() && index < 0; ++i)
    if (samePath(checkpointPaths_[i]) == samePath(document_->path())) index = i;
  if (index < 0) {
    checkpointLabel_->setText(checkpointPaths_.isEmpty() ? QString() : tr("(not in the run)"));
    return;
  }
  const QSignalBlocker block(checkpointSlider_);
  checkpointSlider_->setValue(index);
  checkpointLabel_->setText(checkpointNames_[index]);
}

void HeadPresenter::documentOpened() {
  syncCheckpointSlider();
  heatmap_->clear();
  shownOverview_ = nullptr;
  curve_->clear();
  spectrum_->clear();
  heatmap_->setTokenLabels(document_->tokenLabels(), viewdata::isTextInput(document_->inputSpec()));
}

void HeadPresenter::setAllHeads(bool all) {
  allHeads_ = all;
  refreshCurve();
}

void HeadPresenter::setLogScale(bool log) {
  heatmap_->setScale(log ? HeatmapView::Scale::Log10 : HeatmapView::Scale::Linear);
}

void HeadPresenter::resetZoom() {
  heatmap_->resetView();
  curve_->resetView();
  curve_->replot();
}

void HeadPresenter::onSelectionChanged(int previousLayer) {
  const int layer = selection_->layer();
  if (layer != previousLayer) {
    curve_->clear();
    spectrum_->clear();
  }
  if (document_->operatorData(layer)) onOperatorReady(layer);
  if (document_->curveData(layer)) refreshCurve();
  requestCurrent();
}

void HeadPresenter::onInputChanged() {
  // The new input's length at once: requests made before its operator arrives (an options
  // change, a spectrum) must not use a split of the old length.
  split_->setLength(document_->sequenceLength());
  heatmap_->setTokenLabels(document_->tokenLabels(), viewdata::isTextInput(document_->inputSpec()));
  requestCurrent();
}

void HeadPresenter::onOptionsChanged() {
  const ess::EssOptions& o = document_->options();
  spectrum_->setTolerance(o.tolerance_, viewdata::reference(o.normalization_));
  requestCurrent();
  if (selection_->isValid() && split_->split() >= 1)
    document_->requestSpectrum(selection_->layer(), selection_->head(), split_->split());
}

void HeadPresenter::memoryBudgetChanged() {
  const int layer = selection_->layer();
  if (layer < 0) return;
  shownOverview_ = nullptr;
  if (document_->operatorData(layer) && !document_->isTiled(layer)) onOperatorReady(layer);
  requestCurrent();
}

void HeadPresenter::requestCurrent() {
  const int layer = selection_->layer();
  if (layer < 0) return;
  if (comparing()) {
    if (!document_->isTiled(layer)) comparison_->requestOperator(layer);
    comparison_->requestCurve(layer);
  }
  if (document_->isTiled(layer)) {
    showTiledLayer();
    return;
  }
  // The curve is requested once the operator is there (onOperatorReady): its length decides
  // whether a strided curve comes first.
  document_->requestOperator(layer);
}

void HeadPresenter::onOperatorReady(int layer) {
  const Selection& s = *selection_;
  if (layer != s.layer() || document_->isTiled(layer)) return;
  const ess::OperatorData* op = document_->operatorData(layer);
  if (!op || s.head() >= op->heads || s.last() >= op->heads) return;
  shownOverview_ = nullptr;
  const ess::OperatorData* a =
      comparing() && comparison_->showsDifference() ? comparison_->pinned()->operatorData(layer) : nullptr;
  if (!s.isAggregate() && a && a->heads == op->heads && a->length == op->length) {
    setDifferenceColors(true);
    heatmap_->setOperator(op->length, viewdata::headDifference(*a, *op, s.head()),
                          tr("T_B - T_A, %1, L = %2\nB = %3, A = %4")
                              .arg(titles::headTitle(document_->info(), s))
                              .arg(op->length)
                              .arg(comparison_->nameB(), comparison_->nameA()));
  } else if (!s.isAggregate()) {
    setDifferenceColors(false);
    heatmap_->setOperator(op->length, viewdata::headValues(*op, s.head()),
                          tr("operator T, %1, L = %2").arg(titles::headTitle(document_->info(), s)).arg(op->length));
  } else if (document_->groupOperator(layer, s.first(), s.last())) {
    onGroupOperatorReady(layer, s.first(), s.last());
  } else {
    document_->requestGroupOperator(layer, s.first(), s.last());
  }
  split_->setLength(op->length);
  document_->requestSpectrum(layer, s.head(), split_->split());
  document_->requestCurve(layer);
}

void HeadPresenter::showTiledLayer() {
  // Long operators: the heatmap comes from tiles, the curve and the spectrum from the
  // structured engine (generator form) without a dense operator.
  const int layer = selection_->layer(), head = selection_->head();
  split_->setLength(document_->sequenceLength());
  if (document_->overviewTile(layer, head))
    onTileReady(layer, head, true);
  else
    document_->requestOverviewTile(layer, head);
  document_->requestSpectrum(layer, head, split_->split());
  document_->requestCurve(layer);
}

void HeadPresenter::onTileReady(int layer, int head, bool overview) {
  const Selection& s = *selection_;
  if (layer != s.layer() || head != s.head() || !document_->isTiled(layer)) return;
  if (!overview) {
    int l = -1, h = -1;
    const ess::OperatorTile* t = document_->detailTile(&l, &h);
    if (t && l == layer && h == head && heatmap_->isTiled() && shownOverview_ == document_->overviewTile(layer, head))
      heatmap_->setDetailTile(viewdata::tileOf(*t));
    return;
  }
  const ess::OperatorTile* t = document_->overviewTile(layer, head);
  if (!t) return;
  const ess::SourceInfo& info = document_->info();
  const int L = document_->sequenceLength();
  // On a second line, so that the first fits above the heatmap.
  const QString sampling =
      t->rowStep > 1 ? tr("tiled: overview 1:%1, zoom in for detail").arg(t->rowStep) : tr("tiled: exact entries");
  QString title;
  if (s.isAggregate()) {
    title = tr("operator T, layer %1 (%2), %3 %4, L = %6\n%7; first of %5, no mean |T| when tiled")
                .arg(layer)
                .arg(QString::fromStdString(info.layers[layer].mixer))
                .arg(viewdata::unitNoun(info, layer))
                .arg(head)
                .arg(titles::selectionLabel(info, s))
                .arg(L)
                .arg(sampling);
  } else {
    title = tr("operator T, %1, L = %2\n%3").arg(titles::headTitle(info, s)).arg(L).arg(sampling);
  }
  title += differenceNote();
  // Already shown (options changed, the same selection again): keep the user's zoom.
  if (heatmap_->isTiled() && shownOverview_ == t && heatmap_->length() == L && heatmap_->title() == title) return;
  heatmap_->setTiledOperator(L, viewdata::tileOf(*t), title);
  shownOverview_ = t;
}

void HeadPresenter::onTileFailed(int layer, int head) {
  if (layer != selection_->layer() || head != selection_->head()) return;
  // Do not leave another layer's picture under this selection.
  heatmap_->clear();
  shownOverview_ = nullptr;
  heatmap_->setTitle(tr("operator T, %1: not available").arg(titles::headTitle(document_->info(), *selection_)));
}

void HeadPresenter::onTileRequested(int rowBegin, int rowEnd, int columnBegin, int columnEnd, int maxRows,
                                    int maxColumns) {
  const int layer = selection_->layer();
  if (layer < 0 || !document_->isTiled(layer)) return;
  ess::TileRequest req;
  req.rowBegin = rowBegin;
  req.rowEnd = rowEnd;
  req.columnBegin = columnBegin;
  req.columnEnd = columnEnd;
  req.maxRows = maxRows;
  req.maxColumns = maxColumns;
  document_->requestDetailTile(layer, selection_->head(), req);
}

void HeadPresenter::onGroupOperatorReady(int layer, int first, int last) {
  const Selection& s = *selection_;
  if (!s.isAggregate() || layer != s.layer() || first != s.first() || last != s.last()) return;
  setDifferenceColors(false);
  const ess::OperatorData* op = document_->operatorData(layer);
  const std::vector<double>* mean = document_->groupOperator(layer, first, last);
  if (!op || !mean) return;
  const ess::SourceInfo& info = document_->info();
  heatmap_->setOperator(
      op->length, QVector<double>(mean->begin(), mean->end()),
      tr("mean |T|, layer %1 (%2), %3, L = %4")
              .arg(layer)
              .arg(QString::fromStdString(info.layers[layer].mixer))
              .arg(s.isLayerTotal() ? tr("all %1 %2").arg(last - first + 1).arg(viewdata::unitNoun(info, layer, true))
                                    : titles::selectionLabel(info, s))
              .arg(op->length) +
          differenceNote());
}

void HeadPresenter::onCurveReady(int layer) {
  if (layer == selection_->layer()) refreshCurve();
}

void HeadPresenter::refreshCurve() {
  const Selection& s = *selection_;
  const int layer = s.layer(), head = s.head();
  const ess::CurveData* c = document_->curveData(layer);
  if (!c || head < 0 || head >= int(c->tolerance.size())) return;
  const ess::SourceInfo& info = document_->info();
  const QString tol = titles::toleranceSuffix(document_->options().tolerance_);
  const QString strided =
      c->splits.size() > 1 && c->splits[1] - c->splits[0] > 1 ? tr(" [strided, refining…]") : QString();
  if (s.isAggregate()) {
    ess::HeadTotal t;
    if (!document_->total(layer, s.first(), s.last(), &t)) return;
    const double u = t.utilizationSummary.mean;
    // "layer 0 total (x d_v 32), utilization 34.5 %" (mean over splits): each head counts
    // d_v times.
    const QString label = titles::selectionLabel(info, s);
    QString title = tr("layer %1 %2").arg(layer).arg(s.isLayerTotal() ? tr("total") : label);
    if (t.valueChannels > 1) title += tr(" (x d_v %1)").arg(t.valueChannels);
    if (std::isfinite(u)) title += tr(", utilization %1 %").arg(100.0 * u, 0, 'f', 1);
    const QString name = s.isLayerTotal() ? tr("layer total") : label;
    ess::HeadTotal ta;
    if (comparing()) {
      QVector<EssSeries> series{viewdata::totalSeries(t, comparison_->nameB())};
      series[0].checkpoint = comparison_->nameB();
      series[0].step = comparison_->stepB();
      if (comparison_->pinned()->total(layer, s.first(), s.last(), &ta)) {
        series.append(viewdata::totalSeries(ta, comparison_->nameA()));
        series[1].checkpoint = comparison_->nameA();
        series[1].step = comparison_->stepA();
      }
      curve_->setSeries(
          series, tr("layer %1 %2, B vs A").arg(layer).arg(s.isLayerTotal() ? tr("total") : label) + tol + strided);
      return;
    }
    curve_->setSeries({viewdata::totalSeries(t, name)}, title + tol + strided);
    return;
  }
  // All heads: every head of the layer, or of the current channel group in a grouped layer.
  QList<int> heads{head};
  if (allHeads_) {
    int lo = 0, hi = int(c->tolerance.size()) - 1;
    for (const ess::ChannelGroup& g : viewdata::groupsOf(info, layer))
      if (head >= g.first && head <= g.last) lo = g.first, hi = g.last;
    for (int h = lo; h <= hi; ++h)
      if (h != head) heads.append(h);
  }
  const QString noun = viewdata::unitNoun(info, layer);
  if (comparing()) {
    // B, then A (the first series drives the readout), each named by its checkpoint.
    const ess::CurveData* a = comparison_->pinned()->curveData(layer);
    QVector<EssSeries> series{viewdata::series(*c, head, comparison_->nameB())};
    series[0].checkpoint = comparison_->nameB();
    series[0].step = comparison_->stepB();
    if (a && head < int(a->tolerance.size())) {
      series.append(viewdata::series(*a, head, comparison_->nameA()));
      series[1].checkpoint = comparison_->nameA();
      series[1].step = comparison_->stepA();
    }
    // All heads and A and B would be too many lines: the selected head's, with a note.
    const QString allNote = allHeads_ && heads.size() > 1 ? tr(" (compare: this %1 only)").arg(noun) : QString();
    curve_->setSeries(series,
                      tr("ESS, layer %1 %2 %3, B vs A").arg(layer).arg(noun).arg(head) + allNote + tol + strided);
    return;
  }
  QVector<EssSeries> series;
  for (int h : heads) series.append(viewdata::series(*c, h, tr("%1 %2").arg(noun).arg(h)));
  const QString title = allHeads_ && heads.size() > 1 ? tr("ESS, layer %1, %2 %3-%4")
                                                            .arg(layer)
                                                            .arg(viewdata::unitNoun(info, layer, true))
                                                            .arg(*std::min_element(heads.begin(), heads.end()))
                                                            .arg(*std::max_element(heads.begin(), heads.end()))
                                                      : tr("ESS, layer %1 %2 %3").arg(layer).arg(noun).arg(head);
  curve_->setSeries(series, title + tol + strided);
}

void HeadPresenter::onSpectrumReady(int layer, int head, int split, const QVector<double>& sigma) {
  const Selection& s = *selection_;
  if (layer != s.layer() || head != s.head()) return;
  QString title;
  if (s.isAggregate())
    title = tr("%1 %2 (first of %3)")
                .arg(viewdata::unitNoun(document_->info(), layer))
                .arg(head)
                .arg(s.isLayerTotal() ? tr("the layer") : titles::selectionLabel(document_->info(), s));
  spectrum_->setSpectrum(split, sigma,
                         viewdata::cutOf(std::vector<double>(sigma.begin(), sigma.end()), document_->options()), title);
}

void HeadPresenter::onSplitChanged(int split) {
  {
    const QSignalBlocker b1(slider_), b2(splitSpin_);
    slider_->setValue(split);
    splitSpin_->setValue(split);
  }
  if (selection_->isValid() && split >= 1) document_->requestSpectrum(selection_->layer(), selection_->head(), split);
}

void HeadPresenter::comparisonChanged() {
  const int layer = selection_->layer();
  if (layer < 0) return;
  requestCurrent();
  if (document_->operatorData(layer) && !document_->isTiled(layer)) onOperatorReady(layer);
  if (document_->curveData(layer)) refreshCurve();
}

void HeadPresenter::pinnedCurveReady(int layer) {
  if (layer == selection_->layer() && document_->curveData(layer)) refreshCurve();
}

void HeadPresenter::pinnedOperatorReady(int layer) {
  if (layer == selection_->layer() && comparison_->showsDifference() && document_->operatorData(layer))
    onOperatorReady(layer);
}

QString HeadPresenter::differenceNote() const {
  if (!comparing() || !comparison_->showsDifference()) return QString();
  return tr("\nCompare: T_B - T_A needs one head of a dense layer; this is B (%1) only").arg(comparison_->nameB());
}

void HeadPresenter::setDifferenceColors(bool difference) {
  if (difference == differenceShown_) return;
  differenceShown_ = difference;
  if (difference) {
    savedAutoMap_ = heatmap_->automaticColorMap();
    savedMap_ = int(heatmap_->chosenColorMap());
    savedRange_ = heatmap_->colorRange().text();
    HeatmapView::ColorRange symmetric;
    symmetric.mode = HeatmapView::ColorRange::Mode::Symmetric;
    heatmap_->setColorMap(false, colormaps::Map::Diverging);
    heatmap_->setColorRange(symmetric);
  } else {
    HeatmapView::ColorRange range;
    QString error;
    if (HeatmapView::ColorRange::parse(savedRange_, &range, &error)) heatmap_->setColorRange(range);
    heatmap_->setColorMap(savedAutoMap_, colormaps::Map(savedMap_));
  }
}
