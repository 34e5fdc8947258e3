#include "comparison.h"

#include <QDir>
#include <QFileInfo>

#include "document.h"
#include "ess/run.h"
#include "view_data.h"

namespace {
// What the curves depend on (ess::EssOptions has no operator==).
bool sameOptions(const ess::EssOptions& a, const ess::EssOptions& b) {
  return a.tolerance_ == b.tolerance_ && a.normalization_ == b.normalization_ && a.dtype_ == b.dtype_ &&
         a.device_ == b.device_ && a.splits_.first == b.splits_.first && a.splits_.last == b.splits_.last &&
         a.splits_.step == b.splits_.step && a.threads_ == b.threads_ && a.algorithm_ == b.algorithm_;
}
}  // namespace

Comparison::Comparison(Document* current, QObject* parent) : QObject(parent), current_(current) {
  connect(current_, &Document::opened, this, &Comparison::sync);
  connect(current_, &Document::inputChanged, this, &Comparison::sync);
  connect(current_, &Document::optionsChanged, this, &Comparison::sync);
}

Comparison::~Comparison() { delete pinned_; }

QString Comparison::shortName(const QString& path) {
  const QFileInfo f(path);
  return f.fileName().isEmpty() ? QFileInfo(f.absolutePath()).fileName() : f.fileName();
}

namespace {
QString cleanPath(const QString& path) { return QDir::cleanPath(QFileInfo(path).absoluteFilePath()); }
}  // namespace

void Comparison::setRunSteps(const QHash<QString, qint64>& steps) {
  runSteps_.clear();
  for (auto it = steps.begin(); it != steps.end(); ++it) runSteps_.insert(cleanPath(it.key()), it.value());
}

qint64 Comparison::stepOf(const QString& path) const {
  if (path.isEmpty()) return -1;
  const auto it = runSteps_.find(cleanPath(path));
  if (it != runSteps_.end() && it.value() >= 0) return it.value();
  return ess::stepFromCheckpointName(QFileInfo(cleanPath(path)).fileName().toStdString());
}

qint64 Comparison::stepA() const { return pinned_ ? stepOf(pinned_->path()) : -1; }

qint64 Comparison::stepB() const { return stepOf(current_->path()); }

QString Comparison::nameA() const {
  const QString a = pinned_ ? shortName(pinned_->path()) : QString();
  return a == shortName(current_->path()) ? a + QStringLiteral(" A") : a;
}

QString Comparison::nameB() const {
  const QString b = shortName(current_->path());
  return pinned_ && shortName(pinned_->path()) == b ? b + QStringLiteral(" B") : b;
}

void Comparison::pin() {
  if (current_->isOpen()) pinPath(current_->path());
}

void Comparison::pinPath(const QString& path) {
  if (path.isEmpty()) return;
  unpin();
  pinned_ = new Document;
  pinned_->setMemoryBudget(current_->memoryBudget());
  connect(pinned_, &Document::opened, this, [this] {
    pinnedOpen_ = true;
    sync();
  });
  connect(pinned_, &Document::openFailed, this, [this](const QString&, const QString& message) {
    emit errorOccurred(message);
    unpin();
  });
  connect(pinned_, &Document::inputChanged, this, &Comparison::evaluate);
  connect(pinned_, &Document::operatorReady, this, [this](int layer) {
    if (active_) emit operatorReady(layer);
  });
  connect(pinned_, &Document::curveReady, this, [this](int layer, bool) {
    if (active_) emit curveReady(layer);
  });
  connect(pinned_, &Document::layerSummaryReady, this, [this] {
    if (active_) emit layerSummaryReady();
  });
  connect(pinned_, &Document::errorOccurred, this, &Comparison::errorOccurred);
  pinnedPath_ = path;
  pinned_->open(path);
  emit changed();
}

void Comparison::unpin() {
  if (!pinned_) return;
  // Its jobs may still run: the Document waits for them when it goes.
  pinned_->disconnect(this);
  pinned_->cancel();
  pinned_->deleteLater();
  pinned_ = nullptr;
  pinnedPath_.clear();
  pinnedOpen_ = false;
  refusedFor_.clear();
  setActive(false, QString());
  emit changed();
}

void Comparison::setShowDifference(bool show) {
  if (difference_ == show) return;
  difference_ = show;
  emit changed();
}

void Comparison::sync() {
  if (!pinned_ || !pinnedOpen_ || !current_->isOpen()) return;
  if (!sameOptions(pinned_->options(), current_->options())) pinned_->setOptions(current_->options());
  if (pinned_->info().needsInput && pinned_->inputSpec() != current_->inputSpec() && !current_->inputSpec().isEmpty()) {
    setActive(false, refusal_);
    pinned_->setInput(current_->inputSpec());  // evaluate() on its inputChanged
    return;
  }
  evaluate();
}

void Comparison::evaluate() {
  if (!pinned_ || !pinnedOpen_ || !current_->isOpen()) return;
  const QString mismatch = viewdata::layoutMismatch(pinned_->info(), pinned_->sequenceLength(), nameA(),
                                                    current_->info(), current_->sequenceLength(), nameB());
  if (mismatch.isEmpty() && pinned_->info().needsInput && pinned_->inputSpec() != current_->inputSpec()) {
    setActive(false, QString());  // A's input change is under way
    return;
  }
  // The GUI's sentences start with a capital (error_text.h); the CLI prints the same text after "error: ".
  QString refusal = mismatch;
  if (!refusal.isEmpty()) refusal[0] = refusal[0].toUpper();
  setActive(mismatch.isEmpty(), refusal);
  if (!mismatch.isEmpty() && refusedFor_ != current_->path() + QLatin1Char('|') + current_->inputSpec()) {
    refusedFor_ = current_->path() + QLatin1Char('|') + current_->inputSpec();
    emit refused(refusal);
  }
}

void Comparison::setActive(bool active, const QString& refusal) {
  const bool was = active_;
  active_ = active;
  refusal_ = refusal;
  if (active) refusedFor_.clear();
  if (was != active || active) emit changed();
}

void Comparison::requestOperator(int layer) {
  if (active_ && layer >= 0 && layer < pinned_->layerCount()) pinned_->requestOperator(layer);
}

void Comparison::requestCurve(int layer) {
  if (active_ && layer >= 0 && layer < pinned_->layerCount()) pinned_->requestCurve(layer);
}

void Comparison::requestAllCurves() {
  if (active_) pinned_->requestAllCurves();
}
