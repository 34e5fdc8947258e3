// TrainingFigureView: a run's ESS over training, the figure of `ess render RUN --figure
// training` and of the GUI's Training tab. Above, one line per layer of a mean over splits (the
// layer total's tolerance-ESS or entropy-ESS, or its utilization ESS / TSS; ess/aggregate.h)
// against the training step; below, on the same step axis, the metrics the run logged (ess/run.h):
// losses on the left axis, accuracy-like metrics (a name containing "acc") on the right axis
// from 0 to 1. One legend in a layout row of its own under the panels, so it hides no line.
#pragma once
#include <QString>
#include <QVector>

#include "plot_view.h"

/// One line: (step, value) points in step order; NaN values are left out of the line.
struct TrainingSeries {
  QString name;  ///< the legend entry ("layer 0 (gla)", "loss", "accuracy")
  QVector<double> steps;
  QVector<double> values;
};

// No Q_OBJECT: no signals or slots of its own (clicks are read by the owner, as the tab does).
class TrainingFigureView : public PlotView {
 public:
  explicit TrainingFigureView(QWidget* parent = nullptr);

  /// Draws `ess` above (y axis titled `essLabel`, from 0) and `metrics` below; both panels share
  /// the step range of every point given. Empty vectors draw empty panels.
  void setData(const QVector<TrainingSeries>& ess, const QString& essLabel, const QVector<TrainingSeries>& metrics,
               const QString& title);

  /// Logged metrics the figure draws: not the learning rate, epoch, runtimes or rates.
  static bool drawsMetric(const QString& name);
  /// Drawn on the right (0..1) axis: the name contains "acc" (accuracy, eval_accuracy).
  static bool isAccuracyLike(const QString& name);

  QCPAxisRect* essRect() const { return axisRect(0); }
  QCPAxisRect* metricsRect() const { return metricsRect_; }
  QCPLegend* figureLegend() const { return legend_; }

  /// `panel,series,step,value` with panel `ess` or `metrics`, one row per point.
  QString toCsv() const override;
  QString figureName() const override { return QStringLiteral("training"); }
  double aspect() const override { return 1.05; }  // two panels and a legend

 protected:
  /// The legend in as many columns as fit the width, no taller than its rows.
  void updateLayout() override;

 private:
  /// Widens the step range so that the end ticks' labels fit; true when it changed.
  bool fitStepRange();

  QVector<TrainingSeries> ess_, metrics_;
  QCPAxisRect* metricsRect_ = nullptr;
  QCPLegend* legend_ = nullptr;
  double stepLo_ = 0, stepHi_ = 1;  // the steps of the points given
};
