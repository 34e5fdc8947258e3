// EssCurveView: tolerance-ESS and entropy-ESS against the split s for one or several heads,
// with the theoretical state size (TSS) as a line where known, a vertical cursor at the
// current split, and click/drag to move the split (docs/definitions.md section 1).
#pragma once
#include <QVector>

#include "plot_view.h"

/// The ESS curve of one head: values at splits[i]; `tss` may be empty or hold NaN (unknown).
/// A total over heads (a layer or a channel group, ess/aggregate.h) also carries its
/// utilization ESS / TSS per split: the legend then says "total" and the readout shows it.
struct EssSeries {
  QString name;  ///< "head 0", "layer total", "channels 0-7"
  QVector<double> splits;
  QVector<double> tolerance;
  QVector<double> entropy;
  QVector<double> tss;
  QVector<double> utilization;  ///< totals only (empty for one head); NaN where the TSS is unknown
  /// Compare A/B: the checkpoint this curve is of ("step-20"); the CSV then has the columns
  /// `checkpoint,step`. Empty otherwise.
  QString checkpoint;
  /// Compare A/B: that checkpoint's training step (ess/run.h); -1 when unknown (`step` empty).
  qint64 step = -1;
  bool isTotal() const { return !utilization.isEmpty(); }
};

class EssCurveView : public PlotView {
  Q_OBJECT
 public:
  explicit EssCurveView(QWidget* parent = nullptr);

  /// Shows the curves (the first series is the "current" head and drives the readout).
  void setSeries(const QVector<EssSeries>& series, const QString& title = QString());
  void clear();
  const QVector<EssSeries>& series() const { return series_; }

  /// x position of the split cursor (the split it shows), NaN when hidden.
  double cursorPosition() const;
  /// Split nearest to the widget pixel x.
  int splitAt(double pixelX) const;
  /// Fits the axes to the data.
  void resetView();

  QString toCsv() const override;
  QString figureName() const override { return QStringLiteral("ess_curve"); }

 protected:
  void onSplitChanged(int split) override;
  void onLengthChanged(int length) override;
  void updateLayout() override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void leaveEvent(QEvent* event) override;

 private:
  void updateCursor();
  QString readout(int split) const;

  QVector<EssSeries> series_;
  QString baseTitle_;
  QCPItemStraightLine* cursor_ = nullptr;
  QCPItemText* cursorLabel_ = nullptr;
  bool dragging_ = false;
  int splitBeforeClick_ = 0;  // undone by a double-click
  int length_ = 0;
};
