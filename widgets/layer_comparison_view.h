// LayerComparisonView: every layer at once, in two panels.
//  - Top: grouped bars per layer (log scale): the layer's total tolerance-ESS, total entropy-ESS
//    and total theoretical state size (TSS), each a mean over splits, with the utilization
//    (ESS / TSS) written above each layer, the legend in a row above the panel. Readable for
//    1-16 layers and any mixer (layer names under the bars where they fit, else the indices);
//    clicking a layer's bars emits layerActivated(layer).
//  - Bottom: a grid of one number per layer and column (the mean tolerance-ESS per head, say):
//    layers as rows (layer 0 at the top), columns as heads or, for layers with many channels,
//    channel groups (the caller chooses; keep it to 16 columns or so), each cell labelled with
//    its value. Layers with fewer columns leave cells empty. Clicking a cell emits
//    headActivated(layer, column).
// A strip at the foot of each layer's bars shows the family of its mixer (the kind after ": " in
// its label; attention, SSM, conv, recurrent: mixerFamily), with a legend entry per family shown, so the share of state
// a hybrid's attention and recurrent layers use is visible at a glance.
#pragma once
#include <QColor>
#include <QStringList>
#include <QVector>

#include "plot_view.h"

/// One layer's bars: means over splits of its totals (NaN where unknown, e.g. no TSS).
struct LayerTotals {
  QString label;           ///< "0: softmax_attention"
  double tolerance = 0;    ///< mean total tolerance-ESS
  double entropy = 0;      ///< mean total entropy-ESS
  double tss = 0;          ///< mean total theoretical state size (NaN: unknown)
  double utilization = 0;  ///< mean utilization ESS / TSS (NaN: unknown)
};

/// The family of a mixer kind (ess info's names): "attention" (softmax_attention,
/// sliding_window_attention), "SSM" (mamba, mamba2, lti_ssm, falcon_mamba), "conv" (short_conv,
/// hyena, conv), "recurrent" (linear_attention, gla, retnet, deltanet, delta_net,
/// gated_deltanet, rg_lru); empty for other kinds (a raw operator).
QString mixerFamily(const QString& mixerKind);
/// The colour of a family's strip (Okabe-Ito: blue, vermillion, green, reddish purple).
QColor mixerFamilyColor(const QString& family);

class LayerComparisonView : public PlotView {
  Q_OBJECT
 public:
  explicit LayerComparisonView(QWidget* parent = nullptr);

  /// The grid: values[layer][column]; `layerLabels` one per layer ("0: softmax_attention");
  /// `valueLabel` names the number ("mean tolerance-ESS"); `columnLabels[layer][column]` names
  /// each column in the hover text and the CSV ("3", "channels 0-7"; default: the index).
  void setData(const QStringList& layerLabels, const QVector<QVector<double>>& values, const QString& valueLabel,
               const QString& title = QString(), const QVector<QStringList>& columnLabels = {});
  /// The bars, one entry per layer (NaN values draw no bar).
  void setTotals(const QVector<LayerTotals>& totals);
  /// Compare A/B: the totals given to setTotals() are one checkpoint's (`name`), `totals` the
  /// other's (`compareName`), one per layer, drawn as two more bars (tolerance-ESS, entropy-ESS,
  /// lighter, hatched) beside the first three in each layer, the legend naming both. Empty
  /// `totals`: one checkpoint again. The CSV then has the columns `checkpoint,step` (`step` and
  /// `compareStep`: the two checkpoints' training steps, -1 unknown). Call after setTotals().
  void setCompareTotals(const QVector<LayerTotals>& totals, const QString& name = QString(),
                        const QString& compareName = QString(), qint64 step = -1, qint64 compareStep = -1);
  const QVector<LayerTotals>& compareTotals() const { return compare_; }
  void clear();
  const QVector<QVector<double>>& values() const { return values_; }
  const QVector<LayerTotals>& totals() const { return totals_; }
  /// The bar charts (tolerance-ESS, entropy-ESS, TSS) of the top panel.
  QList<QCPBars*> bars() const { return {tolBars_, entBars_, tssBars_}; }
  /// The compared checkpoint's bars (tolerance-ESS, entropy-ESS); hidden unless comparing.
  QList<QCPBars*> compareBars() const { return {aTolBars_, aEntBars_}; }
  QCPAxisRect* barsRect() const { return barsRect_; }
  /// The families of the layers, in the order their legend entries appear ("attention", ...).
  QStringList families() const;
  /// Widget pixel in the middle of a layer's family strip (null when the layer has none).
  QPointF familyStripCenter(int layer) const;

  /// Highlights the current layer and column (-1 to hide).
  void setCurrentHead(int layer, int head);
  /// Cell (x = column, y = layer) under the widget pixel `pos`, or (-1, -1).
  QPoint cellAt(const QPointF& pos) const;
  /// Widget pixel at the centre of a cell.
  QPointF cellCenter(int layer, int head) const;
  /// Layer whose bars lie under the widget pixel `pos`, or -1.
  int barLayerAt(const QPointF& pos) const;
  /// Widget pixel in the middle of a layer's bars.
  QPointF barCenter(int layer) const;

  /// `layer,head,mean_tolerance_ess,mean_entropy_ess,mean_tss,mean_utilization`: one row per
  /// layer with head `total` (the bars), then one per grid cell (head or group label; only the
  /// grid's value, in the third column). Compare: first columns `checkpoint,step`, the compared
  /// checkpoint's totals after the first's (the grid is the first's).
  QString toCsv() const override;
  QString figureName() const override { return QStringLiteral("layers"); }
  double aspect() const override { return 0.9; }  // two panels

 signals:
  void headActivated(int layer, int head);
  void layerActivated(int layer);

 protected:
  void mouseReleaseEvent(QMouseEvent* event) override;
  void updateLayout() override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;

 private:
  void rebuild();
  void rebuildBars();
  /// Layer ticks (names or indices) and the bars' y range for the laid-out panel; true when
  /// either changed.
  bool fitBars();
  bool fitLegend();
  bool fitLayerTicks();
  int maxHeads() const;
  QString columnLabel(int layer, int column) const;
  QString layerLabel(int layer) const;

  QStringList layerLabels_;
  QVector<QVector<double>> values_;
  QVector<QStringList> columnLabels_;
  QString valueLabel_;
  QVector<LayerTotals> totals_;
  QCPColorMap* map_ = nullptr;
  QCPColorScale* colorScale_ = nullptr;
  QList<QCPItemText*> labels_;
  QList<QCPItemText*> barLabels_;
  QCPItemRect* current_ = nullptr;
  QCPAxisRect* barsRect_ = nullptr;
  QCPBars* tolBars_ = nullptr;
  QCPBars* entBars_ = nullptr;
  QCPBars* tssBars_ = nullptr;
  QCPBars* aTolBars_ = nullptr;  // Compare: A's bars
  QCPBars* aEntBars_ = nullptr;
  QCPBarsGroup* barsGroup_ = nullptr;
  QVector<LayerTotals> compare_;
  QString nameA_, nameB_;
  qint64 stepA_ = -1, stepB_ = -1;
  QCPLegend* barsLegend_ = nullptr;
  double barsHigh_ = 10;              // the highest bar's value
  QStringList layerTicks_;            // the grid's layer tick labels now drawn
  int barTicksShort_ = -1;            // the layer ticks drawn: 1 indices, 0 names, -1 none yet
  QList<QCPItemRect*> familyStrips_;  ///< per layer, null without a family
  QList<QCPGraph*> familyKeys_;       ///< empty graphs, one legend entry per family shown
  double stripLow_ = 0, stripHigh_ = 0;
  int currentLayer_ = -1;
  int currentHead_ = -1;
  QPointF pressPos_;
};
