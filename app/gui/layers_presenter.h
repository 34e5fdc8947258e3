// LayersPresenter: the Layers tab. Every layer's total ESS beside its theoretical state size
// (bars) and the mean tolerance-ESS per head or channel group (grid), computed for every layer
// on request; a click on a layer or a cell selects it and asks for the Head tab.
#pragma once
#include "tab_presenter.h"

class LayerComparisonView;
class QLabel;

class LayersPresenter : public TabPresenter {
  Q_OBJECT
 public:
  LayersPresenter(Document* document, Selection* selection, SplitPoint* split, QWidget* window);

  QString title() const override { return tr("Layers"); }
  QList<PlotView*> views() const override;
  QStringList exportNames() const override { return {tr("Layer comparison")}; }
  /// "<base>_layer_comparison.<suffix>": the comparison does not depend on the selection.
  QString exportName(PlotView* view, const QString& base, const QString& suffix) const override;
  void activated() override { showLayerComparison(); }
  void documentOpened() override;

  LayerComparisonView* layerView() const { return layers_; }

 public slots:
  /// Shows the tab and computes the curves of every layer that are missing.
  void showLayerComparison();

 signals:
  /// A layer or a cell was clicked: the selection is set, the Head tab should show it.
  void openSelectionRequested();

 private:
  void refresh();
  void onCurveReady();
  void onLayerSummaryReady();
  void onInvalidated();
  /// Compare A/B: A's layer totals beside B's.
  void comparisonChanged() override;
  void pinnedCurveReady(int) override { refresh(); }
  void pinnedLayersReady() override { refresh(); }

  LayerComparisonView* layers_ = nullptr;
  QLabel* status_ = nullptr;
};
