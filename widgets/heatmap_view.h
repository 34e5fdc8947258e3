// HeatmapView: the operator T of one head, an L x L matrix (T[r, c] = weight of input c on
// output r), as a colour map with row 0 at the top, crisp cells, a labelled colour bar
// (linear or log10|T|, viridis), zoom and pan, a hover readout, and the Hankel block
// H_s = T[s:, :s] of the current split outlined. Clicking sets the split to the nearest
// column/row boundary; dragging the outline's edge moves it.
#pragma once
#include <QRectF>
#include <QVector>

#include "plot_view.h"

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
  /// T[row, col] as given (NaN outside the matrix).
  double valueAt(int row, int col) const;

  void setScale(Scale scale);
  Scale scale() const { return scale_; }

  /// Outline of H_s in matrix coordinates (x = column, y = row; cell (r, c) spans
  /// c-0.5..c+0.5, r-0.5..r+0.5): left -0.5, top s-0.5, right s-0.5, bottom L-0.5.
  /// Read back from the drawn item, so tests can check it follows the split.
  QRectF hankelOutline() const;
  /// Split whose boundary (column line x = s-0.5 or row line y = s-0.5) is nearest to the
  /// widget pixel `pos`; `orientation` (optional) receives Qt::Vertical for a column line.
  int splitAt(const QPointF& pos, Qt::Orientation* orientation = nullptr) const;
  /// Widget pixel of matrix coordinates (x = column, y = row).
  QPointF pixelOf(double column, double row) const;

  /// Fits the whole matrix with square cells (also on double-click).
  void resetView();

  QString toCsv() const override;
  QString figureName() const override { return QStringLiteral("heatmap"); }
  QCPColorMap* colorMap() const { return map_; }
  QCPColorScale* colorScale() const { return colorScale_; }

 signals:
  void cellHovered(int row, int column, double value);

 protected:
  void onSplitChanged(int split) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void leaveEvent(QEvent* event) override;

 private:
  void rebuildMap();
  void updateOutline();
  int splitFromCoordinate(double coordinate) const;
  bool nearOutlineEdge(const QPointF& pos, Qt::Orientation* orientation) const;

  int length_ = 0;
  QVector<double> values_;
  Scale scale_ = Scale::Linear;
  QCPColorMap* map_ = nullptr;
  QCPColorScale* colorScale_ = nullptr;
  QCPItemRect* outline_ = nullptr;
  QCPItemText* outlineLabel_ = nullptr;
  bool userView_ = false;        // the user zoomed or panned: keep the view on resize
  int dragging_ = 0;             // 0 none, 1 column edge (x), 2 row edge (y)
  bool pressed_ = false;
  QPointF pressPos_;
};
