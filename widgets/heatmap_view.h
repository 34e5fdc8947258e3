// HeatmapView: the operator T of one head, an L x L matrix (T[r, c] = weight of input c on
// output r), as a colour map with row 0 at the top, crisp cells, a labelled colour bar
// (linear or log10|T|, viridis), zoom and pan, a hover readout, and the Hankel block
// H_s = T[s:, :s] of the current split outlined. Clicking sets the split to the nearest
// column/row boundary; dragging the outline's edge moves it.
// Long operators (too large to hold densely) use the tiled mode: the view knows the true
// length L (axes, outline, clicks and hover in true matrix coordinates), draws a point-sampled
// overview of the whole matrix, and after each zoom or pan (debounced) asks for a detail tile
// of the visible region at about screen resolution (tileRequested), drawn over the overview.
#pragma once
#include <QRectF>
#include <QStringList>
#include <QVector>

#include "colormaps.h"
#include "plot_view.h"

class QTimer;

/// Point samples of an L x L matrix on a regular grid: value (i, j), row-major, is
/// T[firstRow + i * rowStep, firstColumn + j * columnStep] (steps of 1: exact entries).
/// Drawn with cell (i, j) covering the rowStep x columnStep block that starts at its sample.
struct HeatmapTile {
  int firstRow = 0, firstColumn = 0;
  int rowStep = 1, columnStep = 1;
  int rows = 0, columns = 0;
  QVector<double> values;
  bool isEmpty() const { return rows == 0 || columns == 0; }
  bool isExact() const { return rowStep == 1 && columnStep == 1; }
  int rowEnd() const { return firstRow + rows * rowStep; }  ///< first row not covered
  int columnEnd() const { return firstColumn + columns * columnStep; }
  /// Whether matrix cell (row, col) lies in the tile's covered blocks.
  bool covers(int row, int col) const {
    return row >= firstRow && col >= firstColumn && row < rowEnd() && col < columnEnd();
  }
};

class HeatmapView : public PlotView {
  Q_OBJECT
 public:
  enum class Scale { Linear, Log10 };

  explicit HeatmapView(QWidget* parent = nullptr);

  /// Shows an operator: `values` row-major [L, L] (size length*length). NaN cells are drawn
  /// in colormaps::nanColor(). `title` names the layer and head.
  void setOperator(int length, const QVector<double>& values, const QString& title = QString());
  void clear();
  int length() const { return length_; }
  /// T[row, col] as given (NaN outside the matrix). In the tiled mode: the value of the sample
  /// drawn at that cell (the detail tile where it covers the cell, else the overview).
  double valueAt(int row, int col) const;

  /// Tiled mode: shows an operator of true length `length` from `overview`, a point-sampled
  /// tile of the whole matrix (rows and columns starting at 0). The colour scale is fixed from
  /// the overview's values. Replaces any detail tile; keeps the zoom when the view was tiled
  /// at the same length and the user had zoomed (another head), else fits the whole matrix.
  void setTiledOperator(int length, const HeatmapTile& overview, const QString& title = QString());
  /// Draws `tile` (the answer to tileRequested) over the overview; ignored outside the tiled mode.
  void setDetailTile(const HeatmapTile& tile);
  bool isTiled() const { return tiled_; }
  const HeatmapTile& overviewTile() const { return overview_; }
  /// The detail tile drawn (empty when none: the overview is as fine as the screen).
  const HeatmapTile& detailTile() const { return detail_; }
  /// The sample drawn at matrix cell (row, col): its row and column, and whether it is the
  /// exact entry (step 1). False outside the matrix.
  bool sampleAt(int row, int col, int* sampleRow, int* sampleColumn, bool* exact) const;
  /// Sends the pending tile request now instead of after the debounce (tests).
  void requestTileNow();
  /// Debounce between the last zoom or pan and tileRequested, in milliseconds (default 100).
  void setTileDelay(int ms);

  /// Text of each input token (as long as the operator): the hover readout names the tokens,
  /// and with `onAxes` the row and column ticks show the token text instead of positions,
  /// thinned so labels do not overlap (every one when zoomed in far enough). Text inputs put
  /// them on the axes; token-id inputs (MQAR, tokens:) keep position ticks. Empty: numeric ticks.
  void setTokenLabels(const QStringList& labels, bool onAxes = true);
  const QStringList& tokenLabels() const { return tokenLabels_; }
  /// Every how many positions a token label is drawn on the x (Qt::Horizontal) or y axis now.
  int tokenLabelStep(Qt::Orientation orientation) const;
  /// "row r 'tok', column c 'tok'" (without the token parts when there are no labels).
  QString cellText(int row, int column) const;
  void setScale(Scale scale);
  Scale scale() const { return scale_; }

  /// How values map to colours. `automatic`: the diverging map for an operator with negative
  /// entries on the linear scale (GLA, Mamba, DeltaNet), viridis otherwise.
  struct ColorRange {
    enum class Mode {
      Auto,        ///< the values' min..max (diverging map: symmetric about 0)
      Symmetric,   ///< -m..m, m the largest |value| (linear scale; log: as Auto)
      Fixed,       ///< min..max as given (log scale: in log10 units)
      Percentile,  ///< clipped at the (100 - p)th and pth percentiles (diverging: of |value|, about 0)
    };
    Mode mode = Mode::Auto;
    double min = 0, max = 1;
    double percentile = 99;
    /// "auto", "symmetric", "MIN:MAX", "pNN" (e.g. p99); false (with *error) for anything else.
    static bool parse(const QString& text, ColorRange* range, QString* error);
    /// The text parse() reads back as this range.
    QString text() const;
  };
  /// The colour range `range` gives for the finite, unmasked `values` drawn (in the scale's
  /// units: T, or log10|T| when not `linear`); `diverging`: the diverging map is drawn (Auto is
  /// then symmetric about 0). Shared with the multi-panel figure (one range for all panels).
  static QCPRange colorRangeOf(QVector<double> values, bool diverging, bool linear, const ColorRange& range);
  void setColorMap(bool automatic, colormaps::Map map = colormaps::Map::Viridis);
  /// What setColorMap() was given (the export dialog offers them as "the view's").
  bool automaticColorMap() const { return autoMap_; }
  colormaps::Map chosenColorMap() const { return chosenMap_; }
  /// The map drawn now (after the automatic choice).
  colormaps::Map effectiveColorMap() const { return effectiveMap_; }
  void setColorRange(const ColorRange& range);
  const ColorRange& colorRange() const { return range_; }
  /// Draws the causal upper triangle (c > r) in colormaps::maskColor() instead of its zeros (also
  /// in the tiled mode, as exact zeros on the log scale are: by the sample drawn at each cell).
  void setMaskUpper(bool mask);
  bool maskUpper() const { return maskUpper_; }

  /// Outline of H_s in matrix coordinates (x = column, y = row; cell (r, c) spans
  /// c-0.5..c+0.5, r-0.5..r+0.5): left -0.5, top s-0.5, right s-0.5, bottom L-0.5.
  /// Read back from the drawn item, so tests can check it follows the split.
  QRectF hankelOutline() const;
  /// Split whose boundary (column line x = s-0.5 or row line y = s-0.5) is nearest to the
  /// widget pixel `pos`; `orientation` (optional) receives Qt::Vertical for a column line.
  int splitAt(const QPointF& pos, Qt::Orientation* orientation = nullptr) const;
  /// Widget pixel of matrix coordinates (x = column, y = row).
  QPointF pixelOf(double column, double row) const;

  /// Fits the whole matrix: both axes [-0.5, L-0.5] in a square axis rect (also on
  /// double-click).
  void resetView();
  /// True when the user zoomed or panned (the view is then kept on resize).
  bool isZoomed() const { return userView_; }
  /// Shows columns `x` and rows `y` (matrix coordinates) as if the user had zoomed there (a
  /// restored session); tiled operators fetch the region's detail.
  void setZoom(const QCPRange& x, const QCPRange& y);

  QString toCsv() const override;
  QString figureName() const override { return QStringLiteral("heatmap"); }
  /// The square matrix with its colour bar, the title and the axis margins: no empty bands.
  int tightHeight(int width) override;
  QCPColorMap* colorMap() const { return map_; }
  /// The detail tile's colour map (tiled mode; empty data when no detail is drawn).
  QCPColorMap* detailMap() const { return detailMap_; }
  QCPColorScale* colorScale() const { return colorScale_; }

 signals:
  /// Tiled mode: the visible region, rows [rowBegin, rowEnd) x columns [columnBegin,
  /// columnEnd), is wanted with at most maxRows x maxColumns samples (about one per screen
  /// pixel). Answer with setDetailTile(). Not sent while the overview is already that fine.
  void tileRequested(int rowBegin, int rowEnd, int columnBegin, int columnEnd, int maxRows, int maxColumns);

 protected:
  void onSplitChanged(int split) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void leaveEvent(QEvent* event) override;
  /// Lays out, then thins the token labels for the laid-out size (again when they changed).
  void updateLayout() override;

 private:
  int splitBeforeClick_ = 0;  // undone by a double-click
  bool autoMap_ = true;
  colormaps::Map chosenMap_ = colormaps::Map::Viridis, effectiveMap_ = colormaps::Map::Viridis;
  ColorRange range_;
  bool maskUpper_ = false;
  QCPItemRect* maskBackground_ = nullptr;    // the neutral colour behind transparent cells
  QCPItemRect* detailBackground_ = nullptr;  // tiled mode: the same between overview and detail
  void applyGradient(bool signedValues);
  QCPRange rangeOf(QVector<double> values, bool diverging) const;
  /// Makes the axis rect's inner rect square (centred in its cell), the colour scale beside it
  /// at its height, the title just above it: the matrix fills the axis rect at reset zoom.
  void squareAxisRect();
  void rebuildMap();
  void rebuildTiles();
  void fillMap(QCPColorMap* map, const HeatmapTile& tile) const;
  double display(double v) const;  // value -> colour coordinate (linear or log10, tiled mode)
  void scheduleTileRequest();
  void updateOutline();
  bool updateTokenTicks();  // true when a label step changed
  int splitFromCoordinate(double coordinate) const;
  bool nearOutlineEdge(const QPointF& pos, Qt::Orientation* orientation) const;

  int length_ = 0;
  QStringList tokenLabels_;
  QVector<double> values_;
  Scale scale_ = Scale::Linear;
  QCPColorMap* map_ = nullptr;
  QCPColorMap* detailMap_ = nullptr;
  bool tiled_ = false;
  HeatmapTile overview_;
  HeatmapTile detail_;
  QTimer* tileTimer_ = nullptr;
  double logFloor_ = 0, zeroLevel_ = 0;  // tiled log10 scale: floor of the range, colour of exact zeros
  QCPColorScale* colorScale_ = nullptr;
  QCPItemRect* outline_ = nullptr;
  QCPItemText* outlineLabel_ = nullptr;
  bool userView_ = false;  // the user zoomed or panned: keep the view on resize
  int dragging_ = 0;       // 0 none, 1 column edge (x), 2 row edge (y)
  bool pressed_ = false;
  QPointF pressPos_;
};
