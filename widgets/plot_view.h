// PlotView: the common base of the ESS Explorer figures (heatmap, ESS curve, spectrum, layer
// comparison). A QCustomPlot with a title, an optional shared SplitPoint it observes, signals
// for intent (splitRequested) and hover readouts, and the numbers behind the figure as CSV.
#pragma once
#include <qcustomplot.h>

#include <QPointer>
#include <QString>

#include "split_point.h"

class PlotView : public QCustomPlot {
  Q_OBJECT
 public:
  explicit PlotView(QWidget* parent = nullptr);

  /// The numbers behind the figure, as CSV with a header line.
  virtual QString toCsv() const = 0;
  /// Short name used for default export file names ("heatmap", "ess_curve", ...).
  virtual QString figureName() const = 0;

  /// Observes `split` (may be null to detach). The view does not own it.
  void setSplitPoint(SplitPoint* split);
  SplitPoint* splitPoint() const { return splitPoint_; }

  /// The title above the plot; wrapped at spaces onto more lines when wider than the plot
  /// (narrow windows and exports). title() gives it unwrapped.
  void setTitle(const QString& title);
  QString title() const;

  QSize sizeHint() const override { return {480, 360}; }
  QSize minimumSizeHint() const override { return {200, 160}; }

 signals:
  /// The user asked for split `split` (click or drag); apply it to the SplitPoint.
  void splitRequested(int split);
  /// One-line readout of what lies under the mouse (empty when nothing).
  void hoverChanged(const QString& text);

 protected:
  /// Called when the observed split or length changes.
  virtual void onSplitChanged(int split) { Q_UNUSED(split); }
  virtual void onLengthChanged(int length) { Q_UNUSED(length); }
  int currentSplit() const { return splitPoint_ ? splitPoint_->split() : 0; }

  /// A crisp (non-interpolated) colour map on the main axes with a colour scale at the right
  /// of the plot (layout cell 1, 1), the scale's fonts matching the axes.
  QCPColorMap* addColorMapWithScale(QCPColorScale** scale);

  /// Wraps the title to the current width, then lays out (QCustomPlot calls this on replot,
  /// also for exports at another size).
  void updateLayout() override;

  QCPTextElement* titleElement_ = nullptr;

 private:
  QPointer<SplitPoint> splitPoint_;
  QString fullTitle_;
};

/// Formats a number for CSV: shortest round-trip form ("nan" for NaN, empty never).
QString csvNumber(double v);
