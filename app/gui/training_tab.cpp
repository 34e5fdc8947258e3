#include "training_tab.h"

#include <qcustomplot.h>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>
#include <cmath>

#include "ess/aggregate.h"
#include "ess/error.h"
#include "ess/session.h"
#include "training_figure_view.h"

TrainingTab::TrainingTab(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  auto* bar = new QHBoxLayout;
  measureBox_ = new QComboBox(this);
  measureBox_->addItems({tr("Tolerance-ESS (layer total, mean over splits)"),
                         tr("Entropy-ESS (layer total, mean over splits)"), tr("Utilization ESS / TSS (mean)")});
  status_ = new QLabel(tr("No run open: File > Open Run"), this);
  status_->setWordWrap(true);
  cancelButton_ = new QToolButton(this);
  cancelButton_->setText(tr("Cancel"));
  cancelButton_->setVisible(false);
  bar->addWidget(measureBox_);
  bar->addWidget(status_, 1);
  bar->addWidget(cancelButton_);
  layout->addLayout(bar);
  plot_ = new TrainingFigureView(this);
  plot_->setMinimumHeight(300);
  layout->addWidget(plot_, 1);
  connect(measureBox_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          [this](int i) { setMeasure(static_cast<Measure>(i)); });
  connect(cancelButton_, &QToolButton::clicked, this, &TrainingTab::cancel);
  connect(plot_, &QCustomPlot::mousePress, this, [this](QMouseEvent* e) {
    if (run_.checkpoints.empty()) return;
    const double step = plot_->axisRect(0)->axis(QCPAxis::atBottom)->pixelToCoord(e->pos().x());
    int best = 0;
    for (int i = 1; i < static_cast<int>(run_.checkpoints.size()); ++i)
      if (std::abs(stepOf(i) - step) < std::abs(stepOf(best) - step)) best = i;
    emit checkpointRequested(QString::fromStdString(run_.checkpoints[best].path));
  });
}

TrainingTab::~TrainingTab() {
  if (cancel_) cancel_->store(true);
  job_.waitForFinished();
}

double TrainingTab::stepOf(int index) const {
  const int64_t s = run_.checkpoints[index].step;
  return s >= 0 ? double(s) : double(index);  // unknown steps: the listed position
}

void TrainingTab::cancel() {
  if (cancel_) cancel_->store(true);
}

void TrainingTab::openRun(const QString& path) {
  ess::TrainingRun run = ess::openTrainingRun(path.toStdString());  // throws before anything changes
  cancel();
  job_.waitForFinished();
  run_ = std::move(run);
  values_.clear();
  errors_.clear();
  cancel_ = std::make_shared<std::atomic<bool>>(false);
  busy_ = true;
  cancelButton_->setVisible(true);
  redraw();
  std::vector<std::string> paths;
  for (const ess::RunCheckpoint& c : run_.checkpoints) paths.push_back(c.path);
  auto cancelFlag = cancel_;
  const int generation = ++generation_;
  job_ = QtConcurrent::run([this, paths, cancelFlag, generation] {
    for (int i = 0; i < static_cast<int>(paths.size()) && !cancelFlag->load(); ++i) {
      std::vector<Point> layers;
      QString error;
      try {
        auto session = ess::Session::open(paths[i]);
        const ess::SourceInfo& info = session->info();
        for (int l = 0; l < static_cast<int>(info.layers.size()); ++l) {
          const ess::EssCurve c = session->curve(l, ess::EssOptions(), {}, cancelFlag.get());
          const ess::HeadTotal t = ess::layerTotal(c, info.layers[l]);
          layers.push_back({t.toleranceSummary.mean, t.entropySummary.mean, t.utilizationSummary.mean});
        }
      } catch (const ess::Cancelled&) {
        break;
      } catch (const std::exception& e) {
        error = QString::fromStdString(e.what()).section('\n', 0, 0);
      }
      QMetaObject::invokeMethod(
          this,
          [this, i, layers, error, generation] {
            if (generation == generation_) onComputed(i, layers, error);
          },
          Qt::QueuedConnection);
    }
    QMetaObject::invokeMethod(
        this,
        [this, generation] {
          if (generation != generation_) return;
          busy_ = false;
          cancelButton_->setVisible(false);
          redraw();
          emit finished();
        },
        Qt::QueuedConnection);
  });
}

void TrainingTab::onComputed(int index, const std::vector<Point>& layers, const QString& error) {
  if (index >= static_cast<int>(run_.checkpoints.size())) return;
  if (error.isEmpty())
    values_[index] = layers;
  else
    errors_ << error;
  redraw();
  emit checkpointComputed(index);
}

void TrainingTab::setMeasure(Measure m) {
  measure_ = m;
  if (measureBox_->currentIndex() != static_cast<int>(m)) measureBox_->setCurrentIndex(static_cast<int>(m));
  redraw();
}

std::vector<std::pair<double, double>> TrainingTab::series(int layer, Measure measure) const {
  std::vector<std::pair<double, double>> out;
  for (const auto& [index, layers] : values_)
    if (layer < static_cast<int>(layers.size())) {
      const Point& p = layers[layer];
      out.emplace_back(stepOf(index), measure == Measure::Tolerance ? p.tolerance
                                      : measure == Measure::Entropy ? p.entropy
                                                                    : p.utilization);
    }
  return out;
}

std::vector<std::pair<double, double>> TrainingTab::loggedMetric(const std::string& name) const {
  std::vector<std::pair<double, double>> out;
  for (const ess::RunMetrics& m : run_.metrics)
    if (auto it = m.values.find(name); it != m.values.end()) out.emplace_back(double(m.step), it->second);
  return out;
}

void TrainingTab::redraw() {
  int layerCount = 0;
  for (const auto& [index, layers] : values_) layerCount = std::max(layerCount, static_cast<int>(layers.size()));
  QVector<TrainingSeries> ess, metrics;
  for (int l = 0; l < layerCount; ++l) {
    TrainingSeries s{tr("layer %1").arg(l), {}, {}};
    for (const auto& [x, y] : series(l, measure_)) s.steps.append(x), s.values.append(y);
    ess.append(s);
  }
  for (const std::string& name : run_.metricNames()) {
    if (!TrainingFigureView::drawsMetric(QString::fromStdString(name))) continue;
    TrainingSeries s{QString::fromStdString(name), {}, {}};
    for (const auto& [x, y] : loggedMetric(name)) s.steps.append(x), s.values.append(y);
    metrics.append(s);
  }
  const QString label = measure_ == Measure::Tolerance ? tr("mean tolerance-ESS")
                        : measure_ == Measure::Entropy ? tr("mean entropy-ESS")
                                                       : tr("ESS / TSS");
  const QString name = QString::fromStdString(run_.path).section('/', -1, -1, QString::SectionSkipEmpty);
  plot_->setData(ess, label, metrics,
                 run_.checkpoints.empty()
                     ? tr("ESS over training (no run)")
                     : tr("%1: %2 per layer over training")
                           .arg(name, measure_ == Measure::Utilization ? tr("utilization") : label));
  const int total = static_cast<int>(run_.checkpoints.size());
  QString text = run_.checkpoints.empty() ? tr("No run open: File > Open Run")
                                          : tr("%1: %2 of %3 checkpoint(s) computed%4")
                                                .arg(QString::fromStdString(run_.path))
                                                .arg(values_.size() + errors_.size())
                                                .arg(total)
                                                .arg(busy_ ? tr(" (computing…)") : QString());
  if (!run_.metricsNote.empty()) text += QStringLiteral("\n") + QString::fromStdString(run_.metricsNote);
  for (const QString& e : errors_) text += QStringLiteral("\n") + e;
  status_->setText(text);
  plot_->replot();
}
