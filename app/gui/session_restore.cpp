#include "session_restore.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QLineEdit>
#include <QTabWidget>

#include "comparison.h"
#include "controls_panel.h"
#include "document.h"
#include "ess_curve_view.h"
#include "heatmap_view.h"
#include "main_window.h"
#include "position_ess_view.h"
#include "selection.h"
#include "spectrum_view.h"
#include "split_point.h"

namespace {

void setComboData(QComboBox* box, const QString& data) {
  const int i = box->findData(data);
  if (i >= 0) box->setCurrentIndex(i);
}

SessionState::Range rangeOf(const QCPRange& r) { return {true, r.lower, r.upper}; }

QStringList tabNames(const MainWindow& w) {
  QStringList names;
  for (int i = 0; i < w.tabs()->count(); ++i) names << w.tabs()->tabText(i).remove(QLatin1Char('&')).toLower();
  return names;
}

}  // namespace

SessionState captureSession(const MainWindow& w) {
  SessionState s;
  const Document* doc = w.document();
  s.checkpoint = QFileInfo(doc->path()).absoluteFilePath();
  s.input = doc->info().needsInput ? doc->inputSpec() : QString();
  if (s.input.startsWith(QLatin1String("textfile:")))
    s.input = QStringLiteral("textfile:") + QFileInfo(s.input.mid(9)).absoluteFilePath();
  const ess::EssOptions& o = doc->options();
  s.tolerance = o.tolerance_;
  s.normalization = o.normalization_ == ess::Normalization::Sum    ? QStringLiteral("sum")
                    : o.normalization_ == ess::Normalization::None ? QStringLiteral("none")
                                                                   : QStringLiteral("max");
  s.dtype = o.dtype_ == ess::DType::Float32 ? QStringLiteral("float32") : QStringLiteral("float64");
  s.operatorScope = doc->operatorScope();
  const Selection* sel = w.selection();
  s.selectionKind = sel->kind() == Selection::Kind::Group        ? QStringLiteral("group")
                    : sel->kind() == Selection::Kind::LayerTotal ? QStringLiteral("total")
                                                                 : QStringLiteral("head");
  s.layer = std::max(0, sel->layer());
  s.first = std::max(0, sel->first());
  s.last = std::max(s.first, sel->last());
  s.split = w.splitPoint()->split();
  s.tab = tabNames(w).value(w.tabs()->currentIndex());

  const ControlsPanel* c = w.controls();
  s.logScale = c->logScaleBox()->isChecked();
  s.colormap = c->colorMapBox()->currentData().toString();
  // A range still being typed (not applied) is not saved.
  HeatmapView::ColorRange range;
  QString why;
  const QString text = c->colorRangeEdit()->text().trimmed();
  s.colorRange = HeatmapView::ColorRange::parse(text, &range, &why) ? text : QStringLiteral("auto");
  s.maskUpper = c->maskUpperBox()->isChecked();
  s.allHeads = c->allHeadsBox()->isChecked();
  s.positionAllLayers = w.positionAllLayersBox()->isChecked();
  s.marks = w.positionMarksEdit()->text();

  if (w.heatmapView()->isZoomed()) {
    s.heatmapX = rangeOf(w.heatmapView()->xAxis->range());
    s.heatmapY = rangeOf(w.heatmapView()->yAxis->range());
  }
  if (w.curveView()->graphCount() > 0) s.curveX = rangeOf(w.curveView()->xAxis->range());
  if (w.positionView()->rowCount() > 0) s.positionX = rangeOf(w.positionView()->xAxis->range());
  const SpectrumView* spectrum = w.spectrumView();
  if (spectrum->dataSplit() > 0 && !spectrum->sigma().isEmpty()) {
    s.spectrumX = rangeOf(spectrum->xAxis->range());
    s.spectrumY = rangeOf(spectrum->yAxis->range());
  }
  if (const Comparison* c = w.comparison(); c && c->isPinned()) {
    s.compareA = QFileInfo(c->pinnedPath()).absoluteFilePath();
    s.compareDifference = c->showsDifference();
  }
  return s;
}

SessionRestore::SessionRestore(MainWindow* window, const SessionState& state, const QString& sessionPath)
    : QObject(window), window_(window), state_(state), sessionPath_(sessionPath) {}

void SessionRestore::start() {
  Document* doc = window_->document();
  // MainWindow's own handler of opened() (connected first) has run when ours does.
  connect(doc, &Document::opened, this, &SessionRestore::onOpened);
  connect(doc, &Document::openFailed, this, [this](const QString& path, const QString& message) {
    // Nothing of the session is applied; the window keeps what it showed.
    QString why = message.section(QLatin1Char('\n'), 0, 0).trimmed();
    if (why.endsWith(QLatin1Char('.'))) why.chop(1);
    if (isOpening(path)) fail(QStringLiteral("checkpoint"), QStringLiteral("could not be opened: %1").arg(why));
  });
  connect(doc, &Document::inputChanged, this, [this] {
    if (step_ == Step::Input) applySelection();
  });
  // An input the model refuses is reported by the Document; the rest of the session follows.
  connect(doc, &Document::errorOccurred, this, [this] {
    if (step_ == Step::Input) applySelection();
  });
  connect(doc, &Document::busyChanged, this, [this](bool busy) {
    if (!busy && step_ == Step::Zoom) waitUntilIdle();
  });
  // The operators the session names are formed by the open itself (not the block's first).
  doc->openWithScope(state_.checkpoint, state_.operatorScope);
}

bool SessionRestore::isOpening(const QString& path) const {
  return step_ == Step::Opening && QFileInfo(path) == QFileInfo(state_.checkpoint);
}

void SessionRestore::onOpened(const QString& path) {
  if (step_ != Step::Opening || QFileInfo(path) != QFileInfo(state_.checkpoint)) {
    // Another file was opened over (or instead of) the restored one: the rest no longer applies.
    step_ = Step::Done;
    deleteLater();
    return;
  }
  if (window_->document()->operatorScope() != state_.operatorScope)
    return fail(QStringLiteral("operator"),
                QStringLiteral("is 'ssm', but %1 holds one operator per layer (the SSM-only operator is defined "
                               "for the Hugging Face checkpoints' recurrent layers)")
                    .arg(QDir::toNativeSeparators(path)));
  applyControls();
  // A follows B's input and options (comparison.h), so it is pinned once B is open; a session
  // without `compare` compares nothing.
  Comparison* comparison = window_->comparison();
  if (state_.compareA.isEmpty()) {
    comparison->unpin();
  } else {
    comparison->pinPath(state_.compareA);
  }
  comparison->setShowDifference(state_.compareDifference);
  Document* doc = window_->document();
  if (doc->info().needsInput && !state_.input.isEmpty() && state_.input != doc->inputSpec()) {
    step_ = Step::Input;
    doc->setInput(state_.input);
    return;
  }
  applySelection();
}

void SessionRestore::applyControls() {
  ControlsPanel* c = window_->controls();
  c->toleranceBox()->setValue(state_.tolerance);
  setComboData(c->normalizationBox(), state_.normalization);
  setComboData(c->dtypeBox(), state_.dtype);
  c->logScaleBox()->setChecked(state_.logScale);
  setComboData(c->colorMapBox(), state_.colormap);
  c->setColorRangeText(state_.colorRange);
  c->maskUpperBox()->setChecked(state_.maskUpper);
  c->allHeadsBox()->setChecked(state_.allHeads);
  window_->positionMarksEdit()->setText(state_.marks);
  window_->positionAllLayersBox()->setChecked(state_.positionAllLayers);
}

void SessionRestore::applySelection() {
  step_ = Step::Selection;
  const Document* doc = window_->document();
  const int layers = doc->layerCount();
  if (state_.layer >= layers)
    return fail(QStringLiteral("selection.layer"),
                QStringLiteral("is %1, outside 0..%2").arg(state_.layer).arg(layers - 1));
  const int heads = doc->headCount(state_.layer);
  if (state_.selectionKind != QLatin1String("total")) {
    const QString field = state_.selectionKind == QLatin1String("head") ? QStringLiteral("selection.first")
                                                                        : QStringLiteral("selection.last");
    if (state_.last >= heads)
      return fail(field, QStringLiteral("is %1, outside 0..%2 (the heads of layer %3)")
                             .arg(state_.last)
                             .arg(heads - 1)
                             .arg(state_.layer));
  }
  const int length = doc->sequenceLength();
  if (state_.split > 0 && state_.split > length - 1)
    return fail(QStringLiteral("split"),
                QStringLiteral("is %1, outside 1..%2 (L = %3)").arg(state_.split).arg(length - 1).arg(length));
  const int tab = state_.tab.isEmpty() ? -1 : int(tabNames(*window_).indexOf(state_.tab));
  if (!state_.tab.isEmpty() && tab < 0)
    return fail(
        QStringLiteral("tab"),
        QStringLiteral("is '%1', not one of %2").arg(state_.tab, tabNames(*window_).join(QStringLiteral(", "))));

  Selection* sel = window_->selection();
  if (state_.selectionKind == QLatin1String("total"))
    sel->selectLayerTotal(state_.layer);
  else if (state_.selectionKind == QLatin1String("group"))
    sel->selectGroup(state_.layer, state_.first, state_.last);
  else
    sel->selectHead(state_.layer, state_.first);
  if (state_.split > 0) {
    window_->splitPoint()->setLength(length);
    window_->splitPoint()->setSplit(state_.split);
  }
  if (tab >= 0) window_->tabs()->setCurrentIndex(tab);
  step_ = Step::Zoom;
  waitUntilIdle();
}

void SessionRestore::waitUntilIdle() {
  // Queued: results delivered from the cache (queued too) are drawn first.
  QMetaObject::invokeMethod(this, &SessionRestore::onIdle, Qt::QueuedConnection);
}

void SessionRestore::onIdle() {
  if (step_ != Step::Zoom || window_->document()->isBusy()) return;  // busyChanged(false) calls again
  // Every view shows the restored selection now; a split the presenters moved goes back, and
  // the zoom waits for the views' answers at that split (a new spectrum resets its axes).
  if (state_.split > 0 && window_->splitPoint()->split() != state_.split) {
    window_->splitPoint()->setSplit(state_.split);
    if (window_->splitPoint()->split() == state_.split) {
      waitUntilIdle();
      return;
    }
  }
  HeatmapView* heatmap = window_->heatmapView();
  if (state_.heatmapX.set && state_.heatmapY.set && heatmap->length() > 0)
    heatmap->setZoom({state_.heatmapX.lower, state_.heatmapX.upper}, {state_.heatmapY.lower, state_.heatmapY.upper});
  EssCurveView* curve = window_->curveView();
  if (state_.curveX.set && curve->graphCount() > 0) {
    curve->xAxis->setRange(state_.curveX.lower, state_.curveX.upper);
    curve->replot();
  }
  SpectrumView* spectrum = window_->spectrumView();
  if ((state_.spectrumX.set || state_.spectrumY.set) && spectrum->dataSplit() > 0 && !spectrum->sigma().isEmpty()) {
    if (state_.spectrumX.set) spectrum->xAxis->setRange(state_.spectrumX.lower, state_.spectrumX.upper);
    if (state_.spectrumY.set) spectrum->yAxis->setRange(state_.spectrumY.lower, state_.spectrumY.upper);
    spectrum->replot();
  }
  PositionEssView* position = window_->positionView();
  if (state_.positionX.set && position->rowCount() > 0) {
    position->xAxis->setRange(state_.positionX.lower, state_.positionX.upper);
    position->replot();
  }
  finish();
}

void SessionRestore::fail(const QString& field, const QString& problem) {
  step_ = Step::Done;
  emit failed(sessionfile::fieldError(sessionPath_, field, problem));
  deleteLater();
}

void SessionRestore::finish() {
  step_ = Step::Done;
  emit finished(sessionPath_);
  deleteLater();
}
