#include "layers_presenter.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>
#include <limits>

#include "comparison.h"
#include "document.h"
#include "layer_comparison_view.h"
#include "selection.h"
#include "view_data.h"

LayersPresenter::LayersPresenter(Document* document, Selection* selection, SplitPoint* split, QWidget* window)
    : TabPresenter(document, selection, split, window) {
  layers_ = new LayerComparisonView(window);
  layers_->setSplitPoint(nullptr);  // one value per layer and head, no split

  auto* page = new QWidget(window);
  auto* layout = new QVBoxLayout(page);
  layout->setContentsMargins(2, 2, 2, 2);
  auto* bar = new QHBoxLayout;
  auto* compute = new QPushButton(tr("Compute all layers"), page);
  status_ = new QLabel(tr("Every layer's total ESS beside its theoretical state size, and the mean "
                          "tolerance-ESS per head or channel group; click to open."),
                       page);
  status_->setWordWrap(true);
  bar->addWidget(compute);
  bar->addWidget(status_, 1);
  layout->addLayout(bar);
  layout->addWidget(layers_, 1);
  setPage(page);
  connect(compute, &QPushButton::clicked, this, &LayersPresenter::showLayerComparison);

  connect(layers_, &LayerComparisonView::headActivated, this, [this](int layer, int column) {
    // Grouped layers show one column per channel group.
    const std::vector<ess::ChannelGroup> groups = viewdata::groupsOf(document_->info(), layer);
    if (groups.empty())
      selection_->selectHead(layer, column);
    else if (column >= 0 && column < int(groups.size()))
      selection_->selectGroup(layer, groups[column].first, groups[column].last);
    emit openSelectionRequested();
  });
  connect(layers_, &LayerComparisonView::layerActivated, this, [this](int layer) {
    selection_->selectLayerTotal(layer);
    emit openSelectionRequested();
  });

  connect(selection_, &Selection::changed, this, [this] {
    layers_->setCurrentHead(selection_->layer(), viewdata::gridColumn(document_->info(), *selection_));
  });
  connect(document_, &Document::curveReady, this, &LayersPresenter::onCurveReady);
  connect(document_, &Document::layerSummaryReady, this, &LayersPresenter::onLayerSummaryReady);
  connect(document_, &Document::inputChanged, this, &LayersPresenter::onInvalidated);
  connect(document_, &Document::optionsChanged, this, &LayersPresenter::onInvalidated);
}

QList<PlotView*> LayersPresenter::views() const { return {layers_}; }

QString LayersPresenter::exportName(PlotView* view, const QString& base, const QString& suffix) const {
  return base + QLatin1Char('_') + view->figureName() + QLatin1Char('.') + suffix;
}

void LayersPresenter::documentOpened() {
  layers_->clear();
  if (isCurrent()) showLayerComparison();
}

void LayersPresenter::showLayerComparison() {
  if (!isCurrent()) emit activationRequested();  // re-enters through activated()
  if (!document_->isOpen()) return;
  refresh();
  document_->requestAllCurves();
  if (comparing()) comparison_->requestAllCurves();
}

void LayersPresenter::comparisonChanged() {
  if (isCurrent() && comparing()) comparison_->requestAllCurves();
  refresh();
}

void LayersPresenter::refresh() {
  std::vector<const ess::CurveData*> curves;
  for (int l = 0; l < document_->layerCount(); ++l) curves.push_back(document_->curveData(l));
  viewdata::fillLayerView(*layers_, document_->info(), curves);
  if (comparing()) {
    const Document* a = comparison_->pinned();
    QVector<LayerTotals> totals;
    for (int l = 0; l < a->layerCount(); ++l) {
      LayerTotals t;
      t.tolerance = t.entropy = t.tss = t.utilization = std::numeric_limits<double>::quiet_NaN();
      if (const ess::CurveData* c = a->curveData(l)) t = viewdata::layerTotals(*c, a->info().layers[l]);
      totals << t;
    }
    layers_->setCompareTotals(totals, comparison_->nameB(), comparison_->nameA(), comparison_->stepB(),
                              comparison_->stepA());
    layers_->setTitle(tr("Layer totals, B = %1 beside A = %2 (means over splits); per head: B only")
                          .arg(comparison_->nameB(), comparison_->nameA()));
  } else if (!layers_->compareTotals().isEmpty()) {
    layers_->setCompareTotals({});
  }
  layers_->setCurrentHead(selection_->layer(), viewdata::gridColumn(document_->info(), *selection_));
}

void LayersPresenter::onCurveReady() {
  if (layers_->values().size() > 0 || isCurrent()) refresh();
}

void LayersPresenter::onLayerSummaryReady() {
  refresh();
  status_->setText(tr("Top: layer totals, means over splits (tolerance %1); bottom: mean tolerance-ESS "
                      "per head or channel group. Click a layer's bars or a cell to open it.")
                       .arg(document_->options().tolerance_, 0, 'g', 3));
}

void LayersPresenter::onInvalidated() {
  layers_->clear();
  if (isCurrent()) showLayerComparison();
}
