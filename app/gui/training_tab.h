// The Training tab: a run's ESS against the training step (File > Open Run). Above, one line per
// layer of the layer total's tolerance-ESS (or entropy-ESS, or utilization ESS / TSS), each the
// mean over splits (ess/aggregate.h layerTotal, default options and each checkpoint's default
// input); below, on the same step axis, the loss and accuracy the run logged (ess/run.h).
// Checkpoints are computed one after another on a background thread and drawn as they finish;
// Cancel stops after the layer in progress. Clicking near a step asks to open that checkpoint.
#pragma once
#include <QFuture>
#include <QWidget>
#include <atomic>
#include <map>
#include <memory>
#include <vector>

#include "ess/run.h"

class QComboBox;
class QCustomPlot;
class TrainingFigureView;
class QLabel;
class QToolButton;

class TrainingTab : public QWidget {
  Q_OBJECT
 public:
  /// What the upper plot shows per layer.
  enum class Measure { Tolerance, Entropy, Utilization };

  explicit TrainingTab(QWidget* parent = nullptr);
  ~TrainingTab() override;

  /// Reads the run at `path` and starts computing; throws ess::InputError when it is not a run
  /// (the previous run, if any, is kept).
  void openRun(const QString& path);
  const ess::TrainingRun& run() const { return run_; }
  bool isBusy() const { return busy_; }
  void cancel();
  void setMeasure(Measure m);

  /// Per layer, the (step, value) points computed so far of `measure` (tests).
  std::vector<std::pair<double, double>> series(int layer, Measure measure) const;
  /// The logged metric `name` as (step, value) points.
  std::vector<std::pair<double, double>> loggedMetric(const std::string& name) const;
  /// The figure (TrainingFigureView, as `ess render RUN --figure training` draws it).
  TrainingFigureView* essPlot() const { return plot_; }
  QLabel* statusLabel() const { return status_; }

 Q_SIGNALS:
  /// The user clicked at `checkpoint`'s step: open it in the other tabs.
  void checkpointRequested(const QString& path);
  /// One checkpoint finished (index in run().checkpoints), or every one did (finished()).
  void checkpointComputed(int index);
  void finished();

 private:
  struct Point {
    double tolerance = 0, entropy = 0, utilization = 0;
  };
  void onComputed(int index, const std::vector<Point>& layers, const QString& error);
  void redraw();
  double stepOf(int index) const;

  ess::TrainingRun run_;
  std::map<int, std::vector<Point>> values_;  // checkpoint index -> per layer
  QStringList errors_;
  Measure measure_ = Measure::Tolerance;
  bool busy_ = false;
  int generation_ = 0;  // results of an earlier run's job are dropped
  std::shared_ptr<std::atomic<bool>> cancel_;
  QFuture<void> job_;
  TrainingFigureView* plot_ = nullptr;
  QComboBox* measureBox_ = nullptr;
  QLabel* status_ = nullptr;
  QToolButton* cancelButton_ = nullptr;
};
