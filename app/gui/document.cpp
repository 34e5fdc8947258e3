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

QString messageOf(const std::exception& e) {
  QString m = QString::fromStdString(e.what());
  if (m.contains(QLatin1String("memory budget")))
    m += QStringLiteral("\nRaise the memory budget in the side panel (View: Memory budget) to form it.");
  return m;
}

// Token labels of the session's input (empty for operator files, which have no tokens).
QStringList labelsOf(const ess::Session& session) {
  QStringList labels;
  for (const std::string& l : session.tokenLabels()) labels << QString::fromStdString(l);
  return labels;
}

const ess::SourceInfo& emptyInfo() {
  static const ess::SourceInfo info;
  return info;
}

}  // namespace

Document::Document(QObject* parent) : QObject(parent), cancel_(std::make_shared<std::atomic<bool>>(false)) {
  work_.setMaxThreadCount(1);
  spectra_.setMaxThreadCount(1);
  summaries_.setMaxThreadCount(1);
  tiles_.setMaxThreadCount(1);
  qRegisterMetaType<QVector<double>>();
}

Document::~Document() {
  cancel_->store(true);
  openFuture_.waitForFinished();
  work_.waitForDone();
  spectra_.waitForDone();
  summaries_.waitForDone();
  tiles_.waitForDone();
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

QString Document::groupKey(int layer, int first, int last) {
  return QStringLiteral("%1:%2:%3").arg(layer).arg(first).arg(last);
}

const std::vector<double>* Document::groupOperator(int layer, int first, int last) const {
  auto it = groupOperators_.find(groupKey(layer, first, last));
  return it == groupOperators_.end() ? nullptr : it.value().get();
}

bool Document::total(int layer, int first, int last, ess::HeadTotal* out) const {
  const ess::CurveData* c = curveData(layer);
  if (!c || layer < 0 || layer >= layerCount() || first < 0 || last < first || last >= int(c->tolerance.size()))
    return false;
  std::vector<int> heads;
  for (int h = first; h <= last; ++h) heads.push_back(h);
  *out = ess::sumHeads(*c, info().layers[layer], heads);
  return true;
}

bool Document::isTiled(int layer) const {
  if (!handle_ || layer < 0 || layer >= layerCount() || length_ < 2) return false;
  const double bytes = double(headCount(layer)) * double(length_) * double(length_) * 8.0;
  return bytes > double(memoryBudget_) ||
         (info().architecture == "generators" && length_ > kTiledGeneratorLength);
}

void Document::setMemoryBudget(qint64 bytes) {
  memoryBudget_ = std::max<qint64>(1, bytes);
  // A plain size; the session reads it when it next forms a dense operator.
  if (handle_) handle_->session->setMemoryBudget(size_t(memoryBudget_));
}

void Document::setLengthFrom(const HandlePtr& handle, int length) {
  if (handle == handle_) length_ = length;
}

const ess::OperatorTile* Document::overviewTile(int layer, int head) const {
  auto it = overviews_.find(tileKey(layer, head));
  return it == overviews_.end() ? nullptr : it.value().get();
}

const ess::OperatorTile* Document::detailTile(int* layer, int* head) const {
  if (layer) *layer = detailLayer_;
  if (head) *head = detailHead_;
  return detail_.get();
}

void Document::requestOverviewTile(int layer, int head) {
  if (!handle_ || layer < 0 || layer >= layerCount() || head < 0 || head >= headCount(layer)) return;
  const qint64 key = tileKey(layer, head);
  if (overviews_.contains(key)) {
    QMetaObject::invokeMethod(this, [this, layer, head, key] {
      if (overviews_.contains(key)) emit tileReady(layer, head, true);
    }, Qt::QueuedConnection);
    return;
  }
  if (pendingOverviews_.contains(key)) return;
  pendingOverviews_.insert(key);
  HandlePtr handle = handle_;
  const quint64 generation = generation_;
  startJob(tr("overview of layer %1, head %2").arg(layer).arg(head));
  (void)QtConcurrent::run(&tiles_, [this, handle, generation, layer, head, key] {
    std::shared_ptr<ess::OperatorTile> tile;
    QString error;
    try {
      QReadLocker lock(&handle->lock);
      ess::TileRequest req;
      req.maxRows = req.maxColumns = kOverviewSize;
      tile = std::make_shared<ess::OperatorTile>(handle->session->operatorTile(layer, head, req));
    } catch (const std::exception& e) {
      error = messageOf(e);
    }
    QMetaObject::invokeMethod(this, [this, generation, layer, head, key, tile, error] {
      finishJob();
      if (generation != generation_) return;
      pendingOverviews_.remove(key);
      if (!tile) {
        emit tileFailed(layer, head, error);
        emit errorOccurred(error);
        return;
      }
      overviews_.insert(key, tile);
      emit tileReady(layer, head, true);
    }, Qt::QueuedConnection);
  });
}

void Document::requestDetailTile(int layer, int head, const ess::TileRequest& request) {
  if (!handle_ || layer < 0 || layer >= layerCount() || head < 0 || head >= headCount(layer)) return;
  wantedDetail_ = {layer, head, request, generation_, true};
  if (!detailRunning_) startDetailTile();
}

void Document::startDetailTile() {
  const DetailRequest req = wantedDetail_;
  wantedDetail_.valid = false;
  HandlePtr handle = handle_;
  detailRunning_ = true;
  (void)QtConcurrent::run(&tiles_, [this, req, handle] {
    std::shared_ptr<ess::OperatorTile> tile;
    QString error;
    try {
      QReadLocker lock(&handle->lock);
      tile = std::make_shared<ess::OperatorTile>(handle->session->operatorTile(req.layer, req.head, req.tile));
    } catch (const std::exception& e) {
      error = messageOf(e);
    }
    QMetaObject::invokeMethod(this, [this, req, tile, error] {
      detailRunning_ = false;
      // A newer request came in while this one ran: it supersedes this one.
      const bool stale = wantedDetail_.valid;
      if (req.generation == generation_ && !stale) {
        if (!tile) {
          emit errorOccurred(error);
        } else {
          detail_ = tile;
          detailLayer_ = req.layer;
          detailHead_ = req.head;
          emit tileReady(req.layer, req.head, false);
        }
      }
      if (wantedDetail_.valid && wantedDetail_.generation == generation_ && handle_) startDetailTile();
    }, Qt::QueuedConnection);
  });
}

void Document::requestGroupOperator(int layer, int first, int last) {
  if (!handle_ || layer < 0 || layer >= layerCount()) return;
  if (isTiled(layer)) return;  // long operators are never formed densely for a group picture
  const QString key = groupKey(layer, first, last);
  if (groupOperators_.contains(key)) {
    QMetaObject::invokeMethod(this, [this, layer, first, last, key] {
      if (groupOperators_.contains(key)) emit groupOperatorReady(layer, first, last);
    }, Qt::QueuedConnection);
    return;
  }
  if (pendingGroups_.contains(key)) return;
  if (!operators_.contains(layer)) {
    // Computed when the operator arrives (operatorReady).
    wantedGroups_.insert(key);
    requestOperator(layer);
    return;
  }
  startGroupOperator(layer, first, last);
}

void Document::startGroupOperator(int layer, int first, int last) {
  const QString key = groupKey(layer, first, last);
  std::shared_ptr<ess::OperatorData> op = operators_.value(layer);
  if (!op || pendingGroups_.contains(key)) return;
  wantedGroups_.remove(key);
  pendingGroups_.insert(key);
  const quint64 generation = generation_;
  startJob(tr("mean |T| of layer %1, heads %2-%3").arg(layer).arg(first).arg(last));
  (void)QtConcurrent::run(&summaries_, [this, op, layer, first, last, key, generation] {
    std::shared_ptr<std::vector<double>> values;
    QString error;
    try {
      std::vector<int> heads;
      for (int h = first; h <= last; ++h) heads.push_back(h);
      values = std::make_shared<std::vector<double>>(ess::meanAbsOperator(*op, heads));
    } catch (const std::exception& e) {
      error = messageOf(e);
    }
    QMetaObject::invokeMethod(this, [this, layer, first, last, key, generation, values, error] {
      finishJob();
      if (generation != generation_) return;
      pendingGroups_.remove(key);
      if (!values) {
        emit errorOccurred(error);
        return;
      }
      groupOperators_.insert(key, values);
      emit groupOperatorReady(layer, first, last);
    }, Qt::QueuedConnection);
  });
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
  const qint64 budget = memoryBudget_;
  openFuture_ = QtConcurrent::run([this, path, budget] {
    std::shared_ptr<Handle> handle;
    int length = 0;
    QStringList labels;
    QString error;
    try {
      auto h = std::make_shared<Handle>();
      h->session = ess::Session::open(path.toStdString(), size_t(budget));
      length = h->session->info().length > 0 ? h->session->info().length
                                               : int(h->session->tokens().size());
      labels = labelsOf(*h->session);
      handle = h;
    } catch (const std::exception& e) {
      error = messageOf(e);
    } catch (...) {
      error = tr("%1: could not be opened").arg(path);
    }
    QMetaObject::invokeMethod(this, [this, path, handle, length, labels, error] {
      finishJob();
      if (!handle) {
        emit openFailed(path, error);
        return;
      }
      handle_ = handle;
      handle_->session->setMemoryBudget(size_t(memoryBudget_));
      length_ = length;
      tokenLabels_ = labels;
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
  groupOperators_.clear();
  overviews_.clear();
  pendingOverviews_.clear();
  wantedDetail_.valid = false;
  detail_.reset();
  detailLayer_ = detailHead_ = -1;
  pendingGroups_.clear();
  wantedGroups_.clear();
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
    int length = 0;
    QStringList labels;
    try {
      QWriteLocker lock(&handle->lock);
      handle->session->setInput(spec.toStdString());
      length = handle->session->info().length > 0 ? handle->session->info().length
                                                  : int(handle->session->tokens().size());
      labels = labelsOf(*handle->session);
    } catch (const std::exception& e) {
      error = messageOf(e);
      // The core words input errors for the command line ("--input text:...: ..."); here
      // the input came from the Input box.
      if (error.startsWith(QLatin1String("--input"))) error = tr("Input") + error.mid(7);
    }
    QMetaObject::invokeMethod(this, [this, handle, spec, length, labels, error] {
      finishJob();
      if (handle != handle_) return;
      if (!error.isEmpty()) {
        emit errorOccurred(error);
        return;
      }
      setLengthFrom(handle, length);
      tokenLabels_ = labels;
      inputSpec_ = QString::fromStdString(handle->session->input());
      invalidate();
      emit inputChanged(inputSpec_);
    }, Qt::QueuedConnection);
  });
}

void Document::setOptions(const ess::EssOptions& options) {
  options_ = options;
  // Operators do not depend on the options: keep them (and their group pictures), drop the curves.
  auto operators = operators_;
  auto groups = groupOperators_;
  auto overviews = overviews_;
  invalidate();
  operators_ = operators;
  groupOperators_ = groups;
  overviews_ = overviews;
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
      const QString prefix = QStringLiteral("%1:").arg(layer);
      for (const QString& key : QSet<QString>(wantedGroups_)) {
        if (!key.startsWith(prefix)) continue;
        const QStringList parts = key.split(QLatin1Char(':'));
        startGroupOperator(layer, parts[1].toInt(), parts[2].toInt());
      }
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
  // Tiled layers have no operator here: the sequence length decides.
  const int length = operators_.contains(layer) ? operators_.value(layer)->length : length_;
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
