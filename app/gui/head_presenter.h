// HeadPresenter: the Head tab. The heatmap of the selection's operator T (one head, or the mean
// |T| over a channel group or the layer; tiles for long operators), its ESS curves and the
// singular values of H_s at the split, with the split slider below. Observes the Document, the
// Selection and the SplitPoint and names what it shows in the views' titles.
#pragma once
#include "tab_presenter.h"

class EssCurveView;
class HeatmapView;
class QLabel;
class QSlider;
class QSpinBox;
class SpectrumView;

class HeadPresenter : public TabPresenter {
  Q_OBJECT
 public:
  HeadPresenter(Document* document, Selection* selection, SplitPoint* split, QWidget* window);

  QString title() const override { return tr("Head"); }
  QList<PlotView*> views() const override;
  QStringList exportNames() const override;
  /// The heatmap, or the curve or spectrum when that was clicked last.
  PlotView* exportPreselection(PlotView* lastClicked) const override;
  QString exportName(PlotView* view, const QString& base, const QString& suffix) const override;
  void documentOpened() override;

  HeatmapView* heatmap() const { return heatmap_; }
  EssCurveView* curve() const { return curve_; }
  SpectrumView* spectrum() const { return spectrum_; }
  QSlider* splitSlider() const { return slider_; }
  /// The checkpoint slider (shown while a run is open): one position per checkpoint, by step.
  QSlider* checkpointSlider() const { return checkpointSlider_; }
  QLabel* checkpointLabel() const { return checkpointLabel_; }
  /// The run's checkpoints (paths as Session::open takes them, and their names, "step-20"); empty:
  /// the slider is hidden.
  void setCheckpoints(const QStringList& paths, const QStringList& names);
  QSpinBox* splitSpinBox() const { return splitSpin_; }

 public slots:
  /// The ESS curve shows every head of the layer (or of the channel group) beside the selected.
  void setAllHeads(bool all);
  void setLogScale(bool log);
  /// The document's memory budget changed: the layer may switch between dense and tiled.
  void memoryBudgetChanged();
  void resetZoom();

 signals:
  /// The checkpoint slider moved to `path`: open it at the same selection, split and input.
  void checkpointRequested(const QString& path);

 private:
  void onSelectionChanged(int previousLayer);
  void onInputChanged();
  void onOptionsChanged();
  void onOperatorReady(int layer);
  void onGroupOperatorReady(int layer, int first, int last);
  void onCurveReady(int layer);
  /// Tiled layers (long operators): the overview or a detail tile of the head shown arrived.
  void onTileReady(int layer, int head, bool overview);
  void onTileFailed(int layer, int head);
  void onSpectrumReady(int layer, int head, int split, const QVector<double>& sigma);
  void onSplitChanged(int split);
  void onTileRequested(int rowBegin, int rowEnd, int columnBegin, int columnEnd, int maxRows, int maxColumns);
  /// Asks the document for what the selection needs (operator or tiles, curve, spectrum).
  void requestCurrent();
  void showTiledLayer();
  void refreshCurve();
  /// Compare: A's operator or curve arrived, or the comparison changed.
  void comparisonChanged() override;
  void pinnedOperatorReady(int layer) override;
  void pinnedCurveReady(int layer) override;
  /// The heatmap shows T_B - T_A (diverging map, symmetric range) or T_B with the user's colours.
  void setDifferenceColors(bool difference);
  /// A second title line while T_B - T_A is asked for but cannot be drawn (a channel group, the
  /// layer total, a tiled layer): the heatmap shows B only. Empty otherwise.
  QString differenceNote() const;

  HeatmapView* heatmap_ = nullptr;
  EssCurveView* curve_ = nullptr;
  SpectrumView* spectrum_ = nullptr;
  QSlider* slider_ = nullptr;
  QSpinBox* splitSpin_ = nullptr;
  QWidget* checkpointRow_ = nullptr;
  QSlider* checkpointSlider_ = nullptr;
  QLabel* checkpointLabel_ = nullptr;
  QStringList checkpointPaths_, checkpointNames_;
  /// The slider at the open document's checkpoint (without asking to open it).
  void syncCheckpointSlider();
  bool allHeads_ = false;
  const void* shownOverview_ = nullptr;  // the overview tile the heatmap shows (tiled layers)
  bool differenceShown_ = false;         // the heatmap holds T_B - T_A
  bool savedAutoMap_ = true;             // the user's colours while T_B - T_A is shown
  int savedMap_ = 0;
  QString savedRange_;
};
