#include "document.h"

#include <QReadWriteLock>
#include <QtConcurrent>
#include <cmath>
#include <exception>
#include <limits>

#include "ess/error.h"
#include "view_data.h"

struct Document::Handle {
  std::unique_ptr<ess::Session> session;
  // setInput() rebuilds the session's caches: it takes the write lock, everything else reads.
  QReadWriteLock lock;
};

namespace {

QString messageOf(const std::exception& e) { return QString::fromStdString(e.what()); }

const ess::SourceInfo& emptyInfo() {
  static const ess::SourceInfo info;
  return info;
}

}  // namespace

Document::Document(QObject* parent) : QObject(parent), cancel_(std::make_shared<std::atomic<bool>>(false)) {
  work_.setMaxThreadCount(1);
  spectra_.setMaxThreadCount(1);
  qRegisterMetaType<QVector<double>>();
}

Document::~Document() {
  cancel_->store(true);
  openFuture_.waitForFinished();
  work_.waitForDone();
  spectra_.waitForDone();
}

const ess::SourceInfo& Document::info() const {
  return handle_ ? handle_->session->info() : emptyInfo();
}

int Document::headCount(int layer) const {
  const auto& layers = info().layers;
  return layer >= 0 && layer < int(layers.size()) ? layers[layer].heads : 0;
}

const ess::OperatorData* Document::operatorData(int layer) const {
  auto it = operators_.find(layer);
  return it == operators_.end() ? nullptr : it.value().get();
}

const ess::CurveData* Document::curveData(int layer) const {
  auto it = curves_.find(layer);
  return it == curves_.end() ? nullptr : it.value().get();
}

bool Document::allCurvesReady() const {
  for (int l = 0; l < layerCount(); ++l)
    if (!curves_.contains(l) || !curveComplete_.value(l)) return false;
  return layerCount() > 0;
}

QVector<QVector<double>> Document::meanToleranceEss() const {
  QVector<QVector<double>> out;
  for (int l = 0; l < layerCount(); ++l) {
    const ess::CurveData* c = curveData(l);
    out.append(c ? viewdata::meanPerHead(c->tolerance)
                 : QVector<double>(headCount(l), std::numeric_limits<double>::quiet_NaN()));
  }
  return out;
}

void Document::startJob(const QString& what) {
  ++busyJobs_;
  busyWhat_ = what;
  emit busyChanged(true, what);
}

void Document::finishJob() {
  busyJobs_ = std::max(0, busyJobs_ - 1);
  if (busyJobs_ == 0) emit busyChanged(false, QString());
}

ess::ProgressFn Document::progressFn(quint64 generation, long offset, long scaleTotal) {
  auto last = std::make_shared<std::atomic<long>>(-1);
  return [this, generation, offset, scaleTotal, last](long done, long total) {
    if (total <= 0) return;
    const long permille = done * 1000 / total;
    if (last->exchange(permille) == permille) return;  // throttle: 1000 updates at most
    qint64 d = done, t = total;
    if (scaleTotal > 0) {
      d = offset + permille;
      t = scaleTotal;
    }
    QMetaObject::invokeMethod(this, [this, generation, d, t] {
      if (generation == generation_) emit progressChanged(d, t);
    }, Qt::QueuedConnection);
  };
}

void Document::runWork(const QString& what, std::function<void(const HandlePtr&, quint64)> job) {
  if (!handle_) return;
  startJob(what);
  HandlePtr handle = handle_;
  const quint64 generation = generation_;
  (void)QtConcurrent::run(&work_, [this, handle, generation, job] {
    job(handle, generation);
    QMetaObject::invokeMethod(this, [this] { finishJob(); }, Qt::QueuedConnection);
  });
}

void Document::open(const QString& path) {
  if (path.isEmpty()) return;
  // The old document's work goes on until the new one is open (invalidate() cancels it):
  // when opening fails, the window keeps the previous document as it was.
  startJob(tr("opening %1").arg(path));
  openFuture_.waitForFinished();
  openFuture_ = QtConcurrent::run([this, path] {
    std::shared_ptr<Handle> handle;
    QString error;
    try {
      auto h = std::make_shared<Handle>();
      h->session = ess::Session::open(path.toStdString());
      handle = h;
    } catch (const std::exception& e) {
      error = messageOf(e);
    } catch (...) {
      error = tr("%1: could not be opened").arg(path);
    }
    QMetaObject::invokeMethod(this, [this, path, handle, error] {
      finishJob();
      if (!handle) {
        emit openFailed(path, error);
        return;
      }
      handle_ = handle;
      path_ = path;
      inputSpec_ = QString::fromStdString(handle->session->input());
      invalidate();
      emit opened(path);
    }, Qt::QueuedConnection);
  });
}

void Document::invalidate() {
  ++generation_;
  cancel_->store(true);
  cancel_ = std::make_shared<std::atomic<bool>>(false);
  operators_.clear();
  curves_.clear();
  curveComplete_.clear();
  pendingOperators_.clear();
  pendingCurves_.clear();
  pendingAll_ = false;
}

void Document::cancel() {
  cancel_->store(true);
  cancel_ = std::make_shared<std::atomic<bool>>(false);
  pendingCurves_.clear();
  pendingAll_ = false;
}

void Document::setInput(const QString& spec) {
  if (!handle_) return;
  startJob(tr("setting input %1").arg(spec));
  HandlePtr handle = handle_;
  (void)QtConcurrent::run(&work_, [this, handle, spec] {
    QString error;
    try {
      QWriteLocker lock(&handle->lock);
      handle->session->setInput(spec.toStdString());
    } catch (const std::exception& e) {
      error = messageOf(e);
    }
    QMetaObject::invokeMethod(this, [this, handle, spec, error] {
      finishJob();
      if (handle != handle_) return;
      if (!error.isEmpty()) {
        emit errorOccurred(error);
        return;
      }
      inputSpec_ = QString::fromStdString(handle->session->input());
      invalidate();
      emit inputChanged(inputSpec_);
    }, Qt::QueuedConnection);
  });
}

void Document::setOptions(const ess::EssOptions& options) {
  options_ = options;
  // Operators do not depend on the options: keep them, drop the curves.
  auto operators = operators_;
  invalidate();
  operators_ = operators;
  emit optionsChanged();
}

void Document::requestOperator(int layer) {
  if (!handle_ || layer < 0 || layer >= layerCount()) return;
  if (operators_.contains(layer)) {
    QMetaObject::invokeMethod(this, [this, layer] {
      if (operators_.contains(layer)) emit operatorReady(layer);
    }, Qt::QueuedConnection);
    return;
  }
  if (pendingOperators_.contains(layer)) return;
  pendingOperators_.insert(layer);
  runWork(tr("operator of layer %1").arg(layer), [this, layer](const HandlePtr& handle, quint64 generation) {
    std::shared_ptr<ess::OperatorData> op;
    QString error;
    try {
      QReadLocker lock(&handle->lock);
      op = std::make_shared<ess::OperatorData>(handle->session->operatorOf(layer));
    } catch (const std::exception& e) {
      error = messageOf(e);
    }
    QMetaObject::invokeMethod(this, [this, layer, generation, op, error] {
      if (generation != generation_) return;
      pendingOperators_.remove(layer);
      if (!op) {
        emit errorOccurred(error);
        return;
      }
      operators_.insert(layer, op);
      emit operatorReady(layer);
    }, Qt::QueuedConnection);
  });
}

void Document::requestCurve(int layer) {
  if (!handle_ || layer < 0 || layer >= layerCount()) return;
  if (curves_.contains(layer)) {
    QMetaObject::invokeMethod(this, [this, layer] {
      if (curves_.contains(layer)) emit curveReady(layer, curveComplete_.value(layer));
    }, Qt::QueuedConnection);
    if (curveComplete_.value(layer)) return;
  }
  if (pendingCurves_.contains(layer)) return;
  pendingCurves_.insert(layer);
  const ess::EssOptions options = options_;
  CancelFlag flag = cancel_;
  const int length = operators_.contains(layer) ? operators_.value(layer)->length : 0;
  runWork(tr("ESS curve of layer %1").arg(layer), [this, layer, options, flag, length](const HandlePtr& handle,
                                                                               quint64 generation) {
    const ess::ProgressFn progress = progressFn(generation);
    auto deliver = [this, layer, generation](std::shared_ptr<ess::CurveData> c, bool complete, QString error,
                                             bool wasCancelled) {
      QMetaObject::invokeMethod(this, [=] {
        if (generation != generation_) return;
        if (complete || !error.isEmpty() || wasCancelled) pendingCurves_.remove(layer);
        if (wasCancelled) {
          emit cancelled();
          return;
        }
        if (!c) {
          emit errorOccurred(error);
          return;
        }
        if (!complete && curveComplete_.value(layer)) return;
        curves_.insert(layer, c);
        curveComplete_.insert(layer, complete);
        emit curveReady(layer, complete);
      }, Qt::QueuedConnection);
    };
    try {
      QReadLocker lock(&handle->lock);
      if (flag->load()) throw ess::Cancelled();
      ess::Session& session = *handle->session;
      // Progressive refinement: a strided curve first when the full one is long.
      if (length > 257) {
        ess::EssOptions coarse = options;
        coarse.splits_ = {1, 0, std::max(1, (length - 1) / 64)};
        deliver(std::make_shared<ess::CurveData>(session.curve(layer, coarse, {}, flag.get())), false, {}, false);
      }
      deliver(std::make_shared<ess::CurveData>(session.curve(layer, options, progress, flag.get())), true, {},
              false);
    } catch (const ess::Cancelled&) {
      deliver(nullptr, false, {}, true);
    } catch (const std::exception& e) {
      deliver(nullptr, false, messageOf(e), false);
    }
  });
}

void Document::requestAllCurves() {
  if (!handle_ || pendingAll_) return;
  if (allCurvesReady()) {
    QMetaObject::invokeMethod(this, [this] { emit layerSummaryReady(); }, Qt::QueuedConnection);
    return;
  }
  pendingAll_ = true;
  const ess::EssOptions options = options_;
  CancelFlag flag = cancel_;
  QList<int> missing;
  for (int l = 0; l < layerCount(); ++l)
    if (!curves_.contains(l) || !curveComplete_.value(l)) missing.append(l);
  runWork(tr("ESS curves of %1 layer(s)").arg(missing.size()), [this, missing, options, flag](
                                                                    const HandlePtr& handle, quint64 generation) {
    const long total = 1000L * missing.size();
    QString error;
    bool wasCancelled = false;
    for (int i = 0; i < missing.size() && error.isEmpty() && !wasCancelled; ++i) {
      const int layer = missing[i];
      try {
        QReadLocker lock(&handle->lock);
        auto c = std::make_shared<ess::CurveData>(
            handle->session->curve(layer, options, progressFn(generation, 1000L * i, total), flag.get()));
        QMetaObject::invokeMethod(this, [this, layer, generation, c] {
          if (generation != generation_) return;
          curves_.insert(layer, c);
          curveComplete_.insert(layer, true);
          emit curveReady(layer, true);
        }, Qt::QueuedConnection);
      } catch (const ess::Cancelled&) {
        wasCancelled = true;
      } catch (const std::exception& e) {
        error = messageOf(e);
      }
    }
    QMetaObject::invokeMethod(this, [this, generation, error, wasCancelled] {
      if (generation != generation_) return;
      pendingAll_ = false;
      if (wasCancelled) emit cancelled();
      else if (!error.isEmpty()) emit errorOccurred(error);
      else emit layerSummaryReady();
    }, Qt::QueuedConnection);
  });
}

void Document::requestSpectrum(int layer, int head, int split) {
  if (!handle_ || split < 1) return;
  wantedSpectrum_ = {layer, head, split, generation_};
  if (!spectrumRunning_) startSpectrum();
}

void Document::startSpectrum() {
  const SpectrumRequest req = wantedSpectrum_;
  const ess::EssOptions options = options_;
  HandlePtr handle = handle_;
  spectrumRunning_ = true;
  (void)QtConcurrent::run(&spectra_, [this, req, options, handle] {
    QVector<double> sigma;
    QString error;
    try {
      QReadLocker lock(&handle->lock);
      const std::vector<double> s = handle->session->spectrum(req.layer, req.head, req.split, options);
      sigma = QVector<double>(s.begin(), s.end());
    } catch (const std::exception& e) {
      error = messageOf(e);
    }
    QMetaObject::invokeMethod(this, [this, req, sigma, error] {
      spectrumRunning_ = false;
      if (req.generation == generation_) {
        if (!error.isEmpty()) emit errorOccurred(error);
        else emit spectrumReady(req.layer, req.head, req.split, sigma);
      }
      // A newer request came in while this one ran: compute the latest only.
      if (!(wantedSpectrum_ == req) && wantedSpectrum_.generation == generation_ && handle_) startSpectrum();
    }, Qt::QueuedConnection);
  });
}
