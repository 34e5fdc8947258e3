// GridFigureView: the multi-panel figure papers use to compare heads and layers ("small
// multiples", `ess render --figure grid`): one panel per (layer, head), a row per layer and a
// column per head, with shared axes (tick labels and axis titles on the outer panels only, as
// matplotlib's sharex/sharey with label_outer) and a title per panel ("layer 0, head 1").
// Heatmap panels draw the operators T[head] of docs/definitions.md section 1 (row 0 at the
// top, square cells) with ONE colour bar (beside the panels, or under them where the columns
// are narrow: about 7 tick-label lines each) and one colour range common to all panels, in the
// colours of HeatmapView (colormaps, ranges, log10|T| with exact zeros and the masked upper
// triangle in colormaps::maskColor()). Curve panels draw tolerance-ESS, entropy-ESS and the TSS
// against the split on one shared y range, with one legend below the panels.
#pragma once
#include <QFontMetricsF>
#include <QString>
#include <QVector>

#include "colormaps.h"
#include "ess_curve_view.h"
#include "heatmap_view.h"
#include "plot_view.h"

/// One panel: where it sits and what it shows.
struct GridPanel {
  int row = 0, column = 0;  ///< its cell (row: the layer's place in the figure, column: the head's)
  int layer = 0, head = 0;  ///< what the title names
  QString title;            ///< "layer 0, head 1"
  QString shortTitle;       ///< "L0 H1": drawn when the title is wider than its panel
  /// Heatmap panels: the operator's true length L and its samples (steps of 1: every entry
  /// T[head][r, c]; larger steps: a point-sampled overview of a long operator).
  int length = 0;
  HeatmapTile tile;
  /// Curve panels: ESS against the split.
  EssSeries series;
};

// No Q_OBJECT: no signals or slots of its own.
class GridFigureView : public PlotView {
 public:
  enum class Kind { Heatmap, Curve };
  /// How heatmap panels map values to colours (as HeatmapView's options, for all panels at once).
  struct HeatmapStyle {
    HeatmapView::Scale scale = HeatmapView::Scale::Linear;
    bool autoMap = true;  ///< diverging for signed operators on the linear scale, else viridis
    colormaps::Map map = colormaps::Map::Viridis;
    HeatmapView::ColorRange range;
    bool maskUpper = false;
  };

  explicit GridFigureView(QWidget* parent = nullptr);

  /// Heatmap panels (their tiles must be non-empty, rows x columns values). The colour range is
  /// computed over every panel's drawn values (HeatmapView::colorRangeOf).
  void setHeatmaps(const QVector<GridPanel>& panels, const HeatmapStyle& style, const QString& title);
  /// Curve panels: x from split 0 to the largest L - 1, y from 0 to the largest value drawn.
  void setCurves(const QVector<GridPanel>& panels, const QString& title);

  Kind kind() const { return kind_; }
  int panelCount() const { return int(panels_.size()); }
  const GridPanel& panel(int i) const { return panels_[i]; }
  int rowCount() const { return rows_; }
  int columnCount() const { return columns_; }
  QCPAxisRect* panelRect(int i) const { return rects_.value(i); }
  QCPTextElement* panelTitle(int i) const { return titles_.value(i); }
  /// Heatmap panels: panel i's colour map (all share colorScale()); null for curves.
  QCPColorMap* panelMap(int i) const { return maps_.value(i); }
  QCPColorScale* colorScale() const { return colorScale_; }
  colormaps::Map effectiveColorMap() const { return effectiveMap_; }

  /// Heatmaps: `layer,head,row,column,value` for every sample; curves:
  /// `layer,head,split,tolerance_ess,entropy_ess,tss`.
  QString toCsv() const override;
  QString figureName() const override { return QStringLiteral("grid"); }
  /// Heatmaps: the height at which every panel's matrix is square (no empty bands).
  int tightHeight(int width) override;
  /// Curves: about 0.62 x the panel width per row, plus room for the titles and the legend.
  double aspect() const override;

 protected:
  /// Lays out, then gives every panel the same inner size (column and row stretch from the
  /// outer panels' margins, then the smallest), swaps in short titles where long ones do not
  /// fit, aligns the colour bar with the panels and keeps heatmap cells square.
  void updateLayout() override;

 private:
  void clearPanels();
  void buildPanels(const QString& title);
  bool equalizePanels();
  bool fitPanelTitles();
  void uniformPanels();
  void placeColorScale();
  bool placeColorScaleCell(const QFontMetricsF& tickMetrics);
  void squareCells();

  Kind kind_ = Kind::Heatmap;
  QVector<GridPanel> panels_;
  int rows_ = 0, columns_ = 0;
  QCPLayoutGrid* grid_ = nullptr;        // the panels, in plotLayout() cell (1, 0)
  QVector<QCPAxisRect*> rects_;          // per panel
  QVector<QCPTextElement*> titles_;      // per panel
  QVector<QCPColorMap*> maps_;           // per heatmap panel
  QVector<QCPItemRect*> backgrounds_;    // per heatmap panel: the neutral colour behind masked cells
  QCPColorScale* colorScale_ = nullptr;  // heatmaps
  bool barBelow_ = false;                // the colour scale under the panels (narrow columns)
  QCPLegend* legend_ = nullptr;          // curves, below the panels
  QCPLayoutGrid* legendRow_ = nullptr;
  colormaps::Map effectiveMap_ = colormaps::Map::Viridis;
};
