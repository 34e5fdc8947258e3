#include "document.h"

#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QReadWriteLock>
#include <QtConcurrent>
#include <cmath>
#include <exception>

#include "error_text.h"
#include "ess/cancel.h"
#include "ess/error.h"
#include "ess/file_identity.h"
#include "ess/view_policy.h"

struct Document::Handle {
  std::unique_ptr<ess::Session> session;
  // setInput() rebuilds the session's caches: it takes the write lock, everything else reads.
  QReadWriteLock lock;
};

namespace {

QString messageOf(const std::exception& e) {
  QString m = errortext::messageOf(e);
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

bool Document::DetailRequest::operator==(const DetailRequest& o) const {
  return layer == o.layer && head == o.head && tile.rowBegin == o.tile.rowBegin && tile.rowEnd == o.tile.rowEnd &&
         tile.columnBegin == o.tile.columnBegin && tile.columnEnd == o.tile.columnEnd &&
         tile.maxRows == o.tile.maxRows && tile.maxColumns == o.tile.maxColumns;
}

asyncjobs::Hooks Document::hooks() {
  return {[this](const QString& what) { startJob(what); }, [this] { finishJob(); }, &messageOf};
}

Document::Document(QObject* parent)
    : QObject(parent),
      cancel_(std::make_shared<std::atomic<bool>>(false)),
      inputCancel_(std::make_shared<std::atomic<bool>>(false)),
      openCancel_(std::make_shared<std::atomic<bool>>(false)),
      operators_(this, &work_, &generation_, hooks(),
                 {[this](int layer, bool) {
                    emit operatorReady(layer);
                    const QString prefix = QStringLiteral("%1:").arg(layer);
                    for (const QString& key : QSet<QString>(wantedGroups_)) {
                      if (!key.startsWith(prefix)) continue;
                      const QStringList parts = key.split(QLatin1Char(':'));
                      startGroupOperator(layer, parts[1].toInt(), parts[2].toInt());
                    }
                  },
                  [this](int, const QString& message) { reportError(message); }, [this](int) { emit cancelled(); }}),
      curves_(this, &work_, &generation_, hooks(),
              {[this](int layer, bool final) { emit curveReady(layer, final); },
               [this](int, const QString& message) { reportError(message); }, [this](int) { emit cancelled(); }}),
      grid_(this, &work_, &generation_, hooks(),
            {[this](int key, bool) {
               grid_.remove(key);  // whether every curve is there is the curve cache's to say
               emit layerSummaryReady();
             },
             [this](int, const QString& message) { reportError(message); }, [this](int) { emit cancelled(); }}),
      groups_(this, &summaries_, &generation_, hooks(),
              {[this](const QString& key, bool) {
                 const QStringList parts = key.split(QLatin1Char(':'));
                 emit groupOperatorReady(parts[0].toInt(), parts[1].toInt(), parts[2].toInt());
               },
               [this](const QString&, const QString& message) { reportError(message); },
               [this](const QString&) { emit cancelled(); }}),
      overviews_(this, &tiles_, &generation_, hooks(),
                 {[this](qint64 key, bool) { emit tileReady(int(key >> 32), int(quint32(key)), true); },
                  [this](qint64 key, const QString& message) {
                    emit tileFailed(int(key >> 32), int(quint32(key)), message);
                    reportError(message);
                  },
                  [this](qint64) { emit cancelled(); }}),
      spectrum_(this, &spectra_, &generation_, &messageOf, false,
                {[this](const SpectrumRequest& r, const QVector<double>& sigma) {
                   emit spectrumReady(r.layer, r.head, r.split, sigma);
                 },
                 [this](const SpectrumRequest&, const QString& message) { reportError(message); },
                 [this](const SpectrumRequest&) { emit cancelled(); }}),
      detail_(this, &tiles_, &generation_, &messageOf, true,
              {[this](const DetailRequest& r, const TilePtr& tile) {
                 detailTile_ = tile;
                 detailLayer_ = r.layer;
                 detailHead_ = r.head;
                 emit tileReady(r.layer, r.head, false);
               },
               [this](const DetailRequest&, const QString& message) { reportError(message); },
               [this](const DetailRequest&) { emit cancelled(); }}) {
  work_.setMaxThreadCount(1);
  spectra_.setMaxThreadCount(1);
  summaries_.setMaxThreadCount(1);
  tiles_.setMaxThreadCount(1);
  opens_.setMaxThreadCount(4);  // an abandoned open still running does not hold up the next
  qRegisterMetaType<QVector<double>>();
  watcher_ = new QFileSystemWatcher(this);
  connect(watcher_, &QFileSystemWatcher::fileChanged, this, &Document::onSourceFileEvent);
}

Document::~Document() {
  cancel_->store(true);
  opens_.waitForDone();
  work_.waitForDone();
  spectra_.waitForDone();
  summaries_.waitForDone();
  tiles_.waitForDone();
}

const ess::SourceInfo& Document::info() const { return handle_ ? handle_->session->info() : emptyInfo(); }

int Document::headCount(int layer) const {
  const auto& layers = info().layers;
  return layer >= 0 && layer < int(layers.size()) ? layers[layer].heads : 0;
}

const ess::OperatorData* Document::operatorData(int layer) const { return operators_.value(layer); }

const ess::CurveData* Document::curveData(int layer) const { return curves_.value(layer); }

QString Document::groupKey(int layer, int first, int last) {
  return QStringLiteral("%1:%2:%3").arg(layer).arg(first).arg(last);
}

const std::vector<double>* Document::groupOperator(int layer, int first, int last) const {
  return groups_.value(groupKey(layer, first, last));
}

bool Document::total(int layer, int first, int last, ess::HeadTotal* out) const {
  const ess::CurveData* c = curveData(layer);
  if (!c || layer < 0 || layer >= layerCount()) return false;
  const std::vector<int> heads = ess::headRange(first, last, int(c->tolerance.size()));
  if (heads.empty()) return false;
  *out = ess::sumHeads(*c, info().layers[layer], heads);
  return true;
}

bool Document::isTiled(int layer) const {
  if (!handle_ || layer < 0 || layer >= layerCount() || length_ < 2) return false;
  return ess::isTiledLayer(info().architecture, headCount(layer), length_, std::size_t(memoryBudget_));
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
  return overviews_.value(tileKey(layer, head));
}

const ess::OperatorTile* Document::detailTile(int* layer, int* head) const {
  if (layer) *layer = detailLayer_;
  if (head) *head = detailHead_;
  return detailTile_.get();
}

void Document::requestOverviewTile(int layer, int head) {
  if (!handle_ || layer < 0 || layer >= layerCount() || head < 0 || head >= headCount(layer)) return;
  HandlePtr handle = handle_;
  CancelFlag flag = cancel_;
  overviews_.request(
      tileKey(layer, head), tr("overview of layer %1, head %2").arg(layer).arg(head),
      [handle, layer, head, flag](const AsyncCache<qint64, ess::OperatorTile>::Deliver& deliver) {
        const ess::CancelScope scope(flag.get());
        QReadLocker lock(&handle->lock);
        ess::TileRequest req;
        req.maxRows = req.maxColumns = kOverviewSize;
        deliver(std::make_shared<const ess::OperatorTile>(handle->session->operatorTile(layer, head, req)), true);
      });
}

void Document::requestDetailTile(int layer, int head, const ess::TileRequest& request) {
  if (!handle_ || layer < 0 || layer >= layerCount() || head < 0 || head >= headCount(layer)) return;
  HandlePtr handle = handle_;
  CancelFlag flag = cancel_;
  detail_.request({layer, head, request}, [handle, flag](const DetailRequest& r) -> TilePtr {
    const ess::CancelScope scope(flag.get());
    QReadLocker lock(&handle->lock);
    return std::make_shared<const ess::OperatorTile>(handle->session->operatorTile(r.layer, r.head, r.tile));
  });
}

void Document::requestGroupOperator(int layer, int first, int last) {
  if (!handle_ || layer < 0 || layer >= layerCount()) return;
  if (isTiled(layer)) return;  // long operators are never formed densely for a group picture
  const QString key = groupKey(layer, first, last);
  if (!groups_.contains(key) && !groups_.isPending(key) && !operators_.contains(layer)) {
    // Computed when the operator arrives (operatorReady).
    wantedGroups_.insert(key);
    requestOperator(layer);
    return;
  }
  if (groups_.contains(key) || groups_.isPending(key)) {
    groups_.request(key, QString(), {});  // cached: ready again; computing: nothing
    return;
  }
  startGroupOperator(layer, first, last);
}

void Document::startGroupOperator(int layer, int first, int last) {
  const QString key = groupKey(layer, first, last);
  std::shared_ptr<const ess::OperatorData> op = operators_.shared(layer);
  if (!op || groups_.isPending(key)) return;
  wantedGroups_.remove(key);
  groups_.request(key, tr("mean |T| of layer %1, heads %2-%3").arg(layer).arg(first).arg(last),
                  [op, first, last, flag = cancel_](const AsyncCache<QString, std::vector<double>>::Deliver& deliver) {
                    if (flag->load()) throw ess::Cancelled();
                    const std::vector<int> heads = ess::headRange(first, last, op->heads);
                    deliver(std::make_shared<const std::vector<double>>(ess::meanAbsOperator(*op, heads)), true);
                  });
}

bool Document::allCurvesReady() const {
  for (int l = 0; l < layerCount(); ++l)
    if (!curves_.contains(l) || !curves_.isFinal(l)) return false;
  return layerCount() > 0;
}

void Document::startJob(const QString& what) {
  ++busyJobs_;
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
    QMetaObject::invokeMethod(
        this,
        [this, generation, d, t] {
          if (generation == generation_) emit progressChanged(d, t);
        },
        Qt::QueuedConnection);
  };
}
void Document::open(const QString& path) { startOpen(path, QString()); }

void Document::openAtInput(const QString& path, const QString& input) { startOpen(path, input); }

void Document::openWithScope(const QString& path, ess::OperatorScope scope) {
  operatorScope_ = scope;
  startOpen(path, QString());
}

void Document::reload() {
  if (!handle_) return;
  changePrompted_ = false;  // should the reload fail, the next use of the changed file asks again
  startOpen(path_, handle_->session->info().needsInput ? inputSpec_ : QString());
}

void Document::startOpen(const QString& path, const QString& input) {
  if (path.isEmpty()) return;
  // The old document's work goes on until the new one is open (invalidate() cancels it):
  // when opening fails, the window keeps the previous document as it was.
  if (openPending_) finishJob();  // the open it replaces is abandoned (it stops at its next read)
  openCancel_->store(true);
  openCancel_ = std::make_shared<std::atomic<bool>>(false);
  openPending_ = true;
  startJob(tr("opening %1").arg(path));
  const quint64 openGeneration = ++openGeneration_;
  const qint64 budget = memoryBudget_;
  const ess::OperatorScope opScope = operatorScope_;
  (void)QtConcurrent::run(&opens_, [this, path, input, budget, opScope, openGeneration, flag = openCancel_] {
    if (openGeneration != openGeneration_.load()) return;  // abandoned while queued: never read
    std::shared_ptr<Handle> handle;
    int length = 0;
    QStringList labels;
    QString error;
    try {
      const ess::CancelScope scope(flag.get());  // Cancel: no further tensor is read
      auto h = std::make_shared<Handle>();
      h->session = ess::Session::open(path.toStdString(), size_t(budget));
      if (opScope != ess::OperatorScope::Block) {
        try {  // files that hold one operator (operator files, ess-lm) stay Block
          h->session->setOperatorScope(opScope);
        } catch (const ess::Error&) {
        }
      }
      if (!input.isEmpty() && input.toStdString() != h->session->input()) {
        try {  // a reload keeps the input; one the new file refuses leaves its default
          h->session->setInput(input.toStdString());
        } catch (const ess::Error&) {
        }
      }
      length = h->session->info().length > 0 ? h->session->info().length : int(h->session->tokens().size());
      labels = labelsOf(*h->session);
      handle = h;
    } catch (const std::exception& e) {
      error = messageOf(e);
    } catch (...) {
      error = tr("%1: could not be opened").arg(path);
    }
    QMetaObject::invokeMethod(
        this,
        [this, path, handle, length, labels, error, openGeneration] {
          if (openGeneration != openGeneration_) return;  // cancelled or replaced by a newer open
          openPending_ = false;
          finishJob();
          if (!handle) {
            if (handle_) operatorScope_ = handle_->session->operatorScope();  // the open file's, as before
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
          watchSources();
          operatorScope_ = handle_->session->operatorScope();  // a file that refused ssm resets it
          emit opened(path);
          emit operatorScopeChanged(operatorScope_);
        },
        Qt::QueuedConnection);
  });
}

void Document::invalidate(bool keepOperators) {
  ++generation_;
  cancel_->store(true);
  cancel_ = std::make_shared<std::atomic<bool>>(false);
  curves_.clear();
  grid_.clear();
  detail_.clear();
  detailTile_.reset();
  detailLayer_ = detailHead_ = -1;
  wantedGroups_.clear();
  if (keepOperators) {
    operators_.forgetPending();
    groups_.forgetPending();
    overviews_.forgetPending();
  } else {
    operators_.clear();
    groups_.clear();
    overviews_.clear();
  }
}

void Document::cancel() {
  if (openPending_) {  // the previous document stays; the abandoned open's result is dropped
    openCancel_->store(true);
    ++openGeneration_;
    openPending_ = false;
    finishJob();
    emit cancelled();
  }
  // Every running job stops at its next cancel point (ess/cancel.h) and is forgotten, so that
  // asking again starts it anew; what was computed before stays.
  cancel_->store(true);
  cancel_ = std::make_shared<std::atomic<bool>>(false);
  inputCancel_->store(true);
  inputCancel_ = std::make_shared<std::atomic<bool>>(false);
  operators_.forgetPending();
  curves_.forgetPending();
  grid_.forgetPending();
  groups_.forgetPending();
  wantedGroups_.clear();
  overviews_.forgetPending();
  spectrum_.clear();
  detail_.clear();
}

void Document::setInput(const QString& spec) {
  if (!handle_) return;
  startJob(tr("setting input %1").arg(spec));
  HandlePtr handle = handle_;
  CancelFlag flag = inputCancel_;  // Cancel stops it; a previous input change does not
  (void)QtConcurrent::run(&work_, [this, handle, spec, flag] {
    QString error;
    int length = 0;
    QStringList labels;
    QString input;
    bool stopped = false;
    // Held until the result is posted: a job that reads the new input (a spectrum queued at the
    // old length) then reports after inputChanged, under the new generation's check.
    QWriteLocker lock(&handle->lock);
    try {
      const ess::CancelScope scope(flag.get());
      handle->session->setInput(spec.toStdString());
      length =
          handle->session->info().length > 0 ? handle->session->info().length : int(handle->session->tokens().size());
      labels = labelsOf(*handle->session);
      input = QString::fromStdString(handle->session->input());
    } catch (const ess::Cancelled&) {
      stopped = true;  // the input stays as it was
    } catch (const std::exception& e) {
      error = messageOf(e);  // "Input: ...": the core names the field, not the CLI's flag
    }
    QMetaObject::invokeMethod(
        this,
        [this, handle, length, labels, input, error, stopped] {
          finishJob();
          if (handle != handle_) return;
          if (stopped) {
            emit cancelled();
            return;
          }
          if (!error.isEmpty()) {
            reportError(error);
            return;
          }
          setLengthFrom(handle, length);
          tokenLabels_ = labels;
          inputSpec_ = input;
          invalidate();
          emit inputChanged(inputSpec_);
        },
        Qt::QueuedConnection);
  });
}

ess::OperatorScope Document::operatorScope() const {
  return handle_ ? handle_->session->operatorScope() : operatorScope_;
}

void Document::setOperatorScope(ess::OperatorScope scope) {
  operatorScope_ = scope;
  if (!handle_ || scope == handle_->session->operatorScope()) {
    emit operatorScopeChanged(operatorScope());
    return;
  }
  startJob(tr("forming the %1 operators").arg(QString::fromLatin1(ess::operatorScopeName(scope))));
  HandlePtr handle = handle_;
  (void)QtConcurrent::run(&work_, [this, handle, scope] {
    QString error;
    QWriteLocker lock(&handle->lock);  // waits for the work on the old operators
    try {
      handle->session->setOperatorScope(scope);
    } catch (const std::exception& e) {
      error = messageOf(e);
    }
    QMetaObject::invokeMethod(
        this,
        [this, handle, error] {
          finishJob();
          if (handle != handle_) return;
          if (!error.isEmpty()) {
            operatorScope_ = handle->session->operatorScope();
            reportError(error);
          } else {
            invalidate();
            emit inputChanged(inputSpec_);  // the views ask for what they show again
          }
          emit operatorScopeChanged(handle->session->operatorScope());
        },
        Qt::QueuedConnection);
  });
}

void Document::setOptions(const ess::EssOptions& options) {
  options_ = options;
  // Operators do not depend on the options: keep them (and their group pictures), drop the curves.
  invalidate(true);
  emit optionsChanged();
}

void Document::requestOperator(int layer) {
  if (!handle_ || layer < 0 || layer >= layerCount()) return;
  HandlePtr handle = handle_;
  CancelFlag flag = cancel_;
  // The forward pass to a deep layer is most of the work: its blocks drive the progress bar.
  const ess::ProgressFn progress = progressFn(generation_);
  operators_.request(layer, tr("operator of layer %1").arg(layer),
                     [handle, layer, flag, progress](const AsyncCache<int, ess::OperatorData>::Deliver& deliver) {
                       const ess::CancelScope scope(flag.get());
                       const ess::StageProgressFn forward = [progress](const char*, long d, long t) { progress(d, t); };
                       const ess::ProgressScope progressScope(&forward);
                       QReadLocker lock(&handle->lock);
                       deliver(std::make_shared<const ess::OperatorData>(handle->session->operatorOf(layer)), true);
                     });
}

void Document::requestCurve(int layer) {
  if (!handle_ || layer < 0 || layer >= layerCount()) return;
  HandlePtr handle = handle_;
  const ess::EssOptions options = options_;
  CancelFlag flag = cancel_;
  const ess::ProgressFn progress = progressFn(generation_);
  // Tiled layers have no operator here: the sequence length decides.
  const int length = operators_.contains(layer) ? operators_.value(layer)->length : length_;
  curves_.request(
      layer, tr("ESS curve of layer %1").arg(layer),
      [handle, layer, options, flag, progress, length](const AsyncCache<int, ess::CurveData>::Deliver& deliver) {
        QReadLocker lock(&handle->lock);
        if (flag->load()) throw ess::Cancelled();
        ess::Session& session = *handle->session;
        // Progressive refinement: a strided curve first when the full one is long.
        if (length > 257) {
          ess::EssOptions coarse = options;
          coarse.splits_ = {1, 0, std::max(1, (length - 1) / 64)};
          deliver(std::make_shared<const ess::CurveData>(session.curve(layer, coarse, {}, flag.get())), false);
        }
        deliver(std::make_shared<const ess::CurveData>(session.curve(layer, options, progress, flag.get())), true);
      });
}

void Document::requestAllCurves() {
  if (!handle_ || grid_.isPending(0)) return;
  if (allCurvesReady()) {
    QMetaObject::invokeMethod(
        this, [this] { emit layerSummaryReady(); }, Qt::QueuedConnection);
    return;
  }
  HandlePtr handle = handle_;
  const ess::EssOptions options = options_;
  CancelFlag flag = cancel_;
  const quint64 generation = generation_;
  QList<int> missing;
  for (int l = 0; l < layerCount(); ++l)
    if (!curves_.contains(l) || !curves_.isFinal(l)) missing.append(l);
  grid_.request(0, tr("ESS curves of %1 layer(s)").arg(missing.size()),
                [this, handle, missing, options, flag, generation](const AsyncCache<int, bool>::Deliver& deliver) {
                  const long total = 1000L * missing.size();
                  for (int i = 0; i < missing.size(); ++i) {
                    const int layer = missing[i];
                    QReadLocker lock(&handle->lock);
                    auto c = std::make_shared<const ess::CurveData>(
                        handle->session->curve(layer, options, progressFn(generation, 1000L * i, total), flag.get()));
                    // Each layer's curve shows as soon as it is there.
                    QMetaObject::invokeMethod(
                        this,
                        [this, layer, generation, c] {
                          if (generation != generation_) return;
                          curves_.insert(layer, c);
                          emit curveReady(layer, true);
                        },
                        Qt::QueuedConnection);
                  }
                  deliver(std::make_shared<const bool>(true), true);
                });
}

void Document::requestSpectrum(int layer, int head, int split) {
  // A split beyond the current input is the old input's, asked for before the views heard of
  // the new length: not an error to show.
  if (!handle_ || split < 1 || (length_ >= 2 && split > length_ - 1)) return;
  HandlePtr handle = handle_;
  const ess::EssOptions options = options_;
  CancelFlag flag = cancel_;
  spectrum_.request({layer, head, split}, [handle, options, flag](const SpectrumRequest& r) {
    const ess::CancelScope scope(flag.get());
    QReadLocker lock(&handle->lock);
    const std::vector<double> s = handle->session->spectrum(r.layer, r.head, r.split, options);
    return QVector<double>(s.begin(), s.end());
  });
}

// ---------------------------------------------------------------------------------------------
// Files changing on disk

void Document::reportError(const QString& message) {
  if (!message.contains(QLatin1String(ess::kChangedOnDisk))) {
    emit errorOccurred(message);
    return;
  }
  if (changePrompted_) return;  // asked once per document; the rest of that burst is the same news
  changePrompted_ = true;
  emit sourceChanged(message.section(QStringLiteral(": ") + QLatin1String(ess::kChangedOnDisk), 0, 0), message);
}

void Document::watchSources() {
  changePrompted_ = keptAsOpened_ = false;
  if (!watcher_->files().isEmpty()) watcher_->removePaths(watcher_->files());
  QStringList paths;
  for (const ess::FileIdentity& f : handle_->session->sourceFiles()) paths << QString::fromStdString(f.path);
  if (!paths.isEmpty()) watcher_->addPaths(paths);
}

void Document::onSourceFileEvent(const QString& path) {
  // A file renamed over or deleted drops out of the watch: watch its name again.
  if (!watcher_->files().contains(path) && QFileInfo::exists(path)) watcher_->addPath(path);
  if (!handle_ || changePrompted_ || keptAsOpened_) return;
  HandlePtr handle = handle_;
  // stat(2) of the files is file I/O: off the GUI thread, like opening.
  (void)QtConcurrent::run(&opens_, [this, handle] {
    QString message;
    try {
      handle->session->checkSourcesUnchanged();
    } catch (const std::exception& e) {
      message = messageOf(e);
    }
    if (message.isEmpty()) return;
    QMetaObject::invokeMethod(
        this,
        [this, handle, message] {
          if (handle == handle_ && !keptAsOpened_) reportError(message);
        },
        Qt::QueuedConnection);
  });
}

void Document::keepAsOpened() {
  if (!handle_) return;
  handle_->session->keepContentsAsOpened();
  keptAsOpened_ = true;
  // What failed because of the change is computed again, from what was read at open.
  invalidate();
  emit inputChanged(inputSpec_);
}
