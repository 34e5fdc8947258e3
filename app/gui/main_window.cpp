#include "main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QKeyEvent>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QToolButton>
#include <QVBoxLayout>
#include <algorithm>

#include "comparison.h"
#include "controls_panel.h"
#include "document.h"
#include "ess/run.h"
#include "ess/version.h"
#include "export_dialog.h"
#include "head_presenter.h"
#include "heatmap_view.h"
#include "layer_tree.h"
#include "layers_presenter.h"
#include "plot_view.h"
#include "position_presenter.h"
#include "reload_bar.h"
#include "selection.h"
#include "session_file.h"
#include "session_restore.h"
#include "split_point.h"
#include "training_figure_view.h"
#include "training_tab.h"

namespace {
constexpr int kMaxRecent = 8;
const char* kRecentKey = "recentFiles";
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle(tr("ESS Explorer"));
  setAcceptDrops(true);
  document_ = new Document(this);
  split_ = new SplitPoint(this);
  selection_ = new Selection(this);
  presentError_ = [this](const QString& title, const QString& message) {
    // One sentence in the dialog; anything longer sits under "Show Details...", collapsed and
    // scrollable, so the OK button is always on screen.
    QMessageBox box(QMessageBox::Critical, title, errorSummary(message), QMessageBox::Ok, this);
    if (errorSummary(message) != message) box.setDetailedText(message);
    box.exec();
  };
  buildCentral();
  buildSidePanel();
  buildStatusBar();
  buildMenus();
  connectDocument();
  resize(sizeHint());
  QSettings settings;
  restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
  restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
}

MainWindow::~MainWindow() {
  // The document waits for its worker threads; it must go before the views they report to.
  delete document_;
  document_ = nullptr;
}

QString MainWindow::hint() const {
  return tr(
      "Click the heatmap or the curve to set the split, drag the red outline, arrows move "
      "it; wheel zooms, double-click resets.");
}

HeatmapView* MainWindow::heatmapView() const { return head_->heatmap(); }
EssCurveView* MainWindow::curveView() const { return head_->curve(); }
SpectrumView* MainWindow::spectrumView() const { return head_->spectrum(); }
QSlider* MainWindow::splitSlider() const { return head_->splitSlider(); }
QSlider* MainWindow::checkpointSlider() const { return head_->checkpointSlider(); }
QSpinBox* MainWindow::splitSpinBox() const { return head_->splitSpinBox(); }
LayerComparisonView* MainWindow::layerView() const { return layers_->layerView(); }
PositionEssView* MainWindow::positionView() const { return position_->positionView(); }
QCheckBox* MainWindow::positionAllLayersBox() const { return position_->allLayersBox(); }
QLineEdit* MainWindow::positionMarksEdit() const { return position_->marksEdit(); }
QTreeWidget* MainWindow::layerTree() const { return tree_; }
int MainWindow::currentLayer() const { return selection_->layer(); }
int MainWindow::currentHead() const { return selection_->head(); }
bool MainWindow::isAggregateSelected() const { return selection_->isAggregate(); }
bool MainWindow::isLayerTotalSelected() const { return selection_->isLayerTotal(); }
int MainWindow::selectionFirst() const { return selection_->first(); }
int MainWindow::selectionLast() const { return selection_->last(); }

void MainWindow::showTab(Tab tab) { tabs_->setCurrentIndex(int(tab)); }

QList<PlotView*> MainWindow::views() const {
  QList<PlotView*> all;
  for (TabPresenter* p : presenters_) all += p->views();
  if (training_) all += training_->essPlot();  // the Training tab's figure, once a run was opened
  return all;
}

QStringList MainWindow::exportViewNames() const {
  QStringList names;
  for (TabPresenter* p : presenters_) names += p->exportNames();
  if (training_) names += tr("ESS over training");
  return names;
}

PlotView* MainWindow::exportPreselection() const {
  if (training_ && tabs_->currentWidget() == training_) return training_->essPlot();
  return presenters_.value(tabs_->currentIndex(), head_)->exportPreselection(lastView_);
}

QLabel* MainWindow::fileLabel() const { return fileLabel_; }

// ---------------------------------------------------------------------------------------------
// Layout

void MainWindow::buildCentral() {
  // One line per tab, in Tab order.
  head_ = addPresenter(new HeadPresenter(document_, selection_, split_, this));
  layers_ = addPresenter(new LayersPresenter(document_, selection_, split_, this));
  position_ = addPresenter(new PositionPresenter(document_, selection_, split_, this));

  for (PlotView* v : views()) {
    connect(v, &PlotView::splitRequested, split_, &SplitPoint::setSplit);
    connect(v, &PlotView::hoverChanged, this,
            [this](const QString& text) { hoverLabel_->setText(text.isEmpty() ? hint() : text); });
    v->installEventFilter(this);
    v->setFocusPolicy(Qt::ClickFocus);
  }
  lastView_ = head_->heatmap();
  head_->splitSlider()->installEventFilter(this);
  connect(layers_, &LayersPresenter::openSelectionRequested, this, [this] { showTab(Tab::Head); });

  tabs_ = new QTabWidget(this);
  for (TabPresenter* p : presenters_) {
    tabs_->addTab(p->page(), p->title());
    connect(p, &TabPresenter::activationRequested, this, [this, p] { tabs_->setCurrentWidget(p->page()); });
  }
  presenters_.first()->setCurrent(true);
  connect(tabs_, &QTabWidget::currentChanged, this, [this](int index) {
    for (int i = 0; i < presenters_.size(); ++i) presenters_[i]->setCurrent(i == index);
    if (TabPresenter* p = presenters_.value(index)) p->activated();
  });
  setCentralWidget(withReloadBar(tabs_));
}

void MainWindow::buildSidePanel() {
  auto* panel = new QWidget(this);
  auto* layout = new QVBoxLayout(panel);
  layout->setContentsMargins(2, 2, 2, 2);
  tree_ = new LayerTree(document_, selection_, panel);
  tree_->installEventFilter(this);
  layout->addWidget(tree_, 1);
  controls_ = new ControlsPanel(panel);
  layout->addWidget(controls_);
  auto* dock = new QDockWidget(tr("Model"), this);
  dock->setObjectName(QStringLiteral("modelDock"));
  dock->setWidget(panel);
  dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
  addDockWidget(Qt::LeftDockWidgetArea, dock);
  resizeDocks({dock}, {330}, Qt::Horizontal);

  connect(tree_, &LayerTree::headRequested, this, &MainWindow::selectHead);
  connect(tree_, &LayerTree::groupRequested, this, &MainWindow::selectGroup);
  connect(tree_, &LayerTree::layerTotalRequested, this, &MainWindow::selectLayerTotal);
  connect(controls_, &ControlsPanel::inputRequested, document_, &Document::setInput);
  connect(controls_, &ControlsPanel::statusMessage, this,
          [this](const QString& text) { statusBar()->showMessage(text, 5000); });
  connect(controls_, &ControlsPanel::optionsChanged, document_, &Document::setOptions);
  connect(controls_, &ControlsPanel::logScaleChanged, head_, &HeadPresenter::setLogScale);
  connect(controls_, &ControlsPanel::colorMapChanged, head_->heatmap(), &HeatmapView::setColorMap);
  connect(controls_, &ControlsPanel::colorRangeChanged, head_->heatmap(), &HeatmapView::setColorRange);
  connect(controls_, &ControlsPanel::maskUpperChanged, head_->heatmap(), &HeatmapView::setMaskUpper);
  connect(controls_, &ControlsPanel::allHeadsChanged, head_, &HeadPresenter::setAllHeads);
  document_->setMemoryBudget(controls_->memoryBudget());
  connect(controls_, &ControlsPanel::memoryBudgetChanged, this, &MainWindow::onMemoryBudgetChanged);
}

void MainWindow::buildStatusBar() {
  fileLabel_ = new ElidedLabel(this);
  fileLabel_->setFullText(tr("No file open: File > Open, or drop a checkpoint here"));
  hoverLabel_ = new QLabel(hint(), this);
  hoverLabel_->setMinimumWidth(300);
  busyLabel_ = new QLabel(this);
  progress_ = new QProgressBar(this);
  progress_->setMaximumWidth(220);
  progress_->setTextVisible(true);
  progress_->setVisible(false);
  cancelButton_ = new QToolButton(this);
  cancelButton_->setText(tr("Cancel"));
  cancelButton_->setToolTip(tr("Stop the running computation"));
  cancelButton_->setVisible(false);
  statusBar()->addWidget(fileLabel_, 1);
  statusBar()->addWidget(hoverLabel_, 1);
  statusBar()->addPermanentWidget(busyLabel_);
  statusBar()->addPermanentWidget(progress_);
  statusBar()->addPermanentWidget(cancelButton_);
  connect(cancelButton_, &QToolButton::clicked, document_, &Document::cancel);
}

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  QAction* open = file->addAction(tr("&Open..."), this, &MainWindow::openFileDialog);
  open->setShortcut(QKeySequence::Open);
  QAction* openFolder = file->addAction(tr("Open &Folder..."), this, &MainWindow::openFolderDialog);
  openFolder->setShortcut(QKeySequence(tr("Ctrl+Shift+O")));
  file->addAction(tr("Open R&un..."), this, &MainWindow::openRunDialog);
  recentMenu_ = file->addMenu(tr("Open &Recent"));
  rebuildRecentMenu();
  file->addSeparator();
  // Ctrl+Shift+O is Open Folder's, so Open Session has no shortcut.
  file->addAction(tr("Open &Session..."), this, &MainWindow::openSessionDialog);
  file->addAction(tr("&Save Session..."), this, &MainWindow::saveSessionDialog)
      ->setShortcut(QKeySequence(tr("Ctrl+Shift+S")));
  file->addSeparator();
  QAction* exportAction = file->addAction(tr("&Export View..."), this, &MainWindow::exportDialog);
  exportAction->setShortcut(QKeySequence(tr("Ctrl+E")));
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
  quit->setShortcut(QKeySequence::Quit);

  // One entry per tab: "&Head" Ctrl+1, "&Layers" Ctrl+2, ...
  QMenu* view = menuBar()->addMenu(tr("&View"));
  for (int i = 0; i < presenters_.size(); ++i)
    view->addAction(QLatin1Char('&') + presenters_[i]->title(), this, [this, i] { tabs_->setCurrentIndex(i); })
        ->setShortcut(QKeySequence(tr("Ctrl+%1").arg(i + 1)));
  view->addAction(tr("&Reset Zoom"), head_, &HeadPresenter::resetZoom);
  addOperatorScopeAction(view);

  buildCompare();

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&Keyboard Shortcuts"), this,
                  [this] { QMessageBox::information(this, tr("Keyboard Shortcuts"), shortcutsText()); })
      ->setShortcut(QKeySequence::HelpContents);
  help->addAction(tr("&About ESS Explorer"), this,
                  [this] { QMessageBox::about(this, tr("About ESS Explorer"), aboutText()); });
}

void MainWindow::addOperatorScopeAction(QMenu* view) {
  // The SSM-only operators of the recurrent layers (ess/operator_scope.h), as `--operator ssm`.
  view->addSeparator();
  QAction* ssm = view->addAction(tr("&SSM-only Operators"));
  ssm->setObjectName(QStringLiteral("ssmOperatorsAction"));
  ssm->setCheckable(true);
  ssm->setToolTip(tr("Recurrent layers: the recurrence's own operator, without output gate, norm and D skip"));
  connect(ssm, &QAction::triggered, this,
          [this](bool on) { document_->setOperatorScope(on ? ess::OperatorScope::Ssm : ess::OperatorScope::Block); });
  connect(document_, &Document::operatorScopeChanged, ssm,
          [ssm](ess::OperatorScope scope) { ssm->setChecked(scope == ess::OperatorScope::Ssm); });
}

void MainWindow::buildCompare() {
  comparison_ = new Comparison(document_, this);
  for (TabPresenter* p : presenters_) p->setComparison(comparison_);
  QMenu* compare = menuBar()->addMenu(tr("&Compare"));
  QAction* pin = compare->addAction(tr("&Pin as A"), comparison_, &Comparison::pin);
  pin->setShortcut(QKeySequence(tr("Ctrl+Shift+P")));
  pin->setToolTip(tr("Keep this checkpoint as A; the next one opened is B"));
  QAction* unpin = compare->addAction(tr("&Unpin"), comparison_, &Comparison::unpin);
  unpin->setShortcut(QKeySequence(tr("Ctrl+Shift+U")));
  QAction* difference = compare->addAction(tr("Show T_B - T_A"));
  difference->setCheckable(true);
  difference->setShortcut(QKeySequence(tr("Ctrl+Shift+D")));
  connect(difference, &QAction::toggled, comparison_, &Comparison::setShowDifference);
  auto update = [this, unpin, difference] {
    unpin->setEnabled(comparison_->isPinned());
    const QSignalBlocker block(difference);  // a restored session sets it too
    difference->setChecked(comparison_->showsDifference());
    if (comparison_->isActive())
      statusBar()->showMessage(tr("Comparing B = %1 with A = %2").arg(comparison_->nameB(), comparison_->nameA()));
  };
  connect(comparison_, &Comparison::changed, this, update);
  update();
  connect(comparison_, &Comparison::refused, this,
          [this](const QString& message) { showError(tr("Cannot compare"), message); });
  connect(comparison_, &Comparison::errorOccurred, this,
          [this](const QString& message) { showError(tr("Checkpoint A"), message); });
}

QString MainWindow::aboutText() {
  return tr("<h3>ESS Explorer %1</h3>"
            "<p>Effective state-size (ESS) of sequence-model operators: the rank of the "
            "submatrices H<sub>s</sub> = T[s:, :s] of the operator T, per head, split and layer.</p>"
            "<p>Parnichkun et al., <i>Quantifying Memory Utilization with Effective State-Size</i>, "
            "ICML 2025, arXiv:2504.19561.</p>"
            "<p>Libraries: Qt %2 (LGPL-3.0), QCustomPlot (GPL-3.0), Eigen (MPL-2.0), LAPACK (BSD-3-Clause), "
            "nlohmann/json (MIT), libzip (BSD-3-Clause); when a model is opened, LibTorch (BSD-3-Clause) "
            "and SentencePiece (Apache-2.0).</p>")
      .arg(QString::fromLatin1(ess::versionString()), QString::fromLatin1(qVersion()));
}

QString MainWindow::shortcutsText() const {
  // From the menus themselves, so that the list never drifts from what the keys do.
  QStringList lines;
  for (QAction* menu : menuBar()->actions())
    if (menu->menu())
      for (QAction* a : menu->menu()->actions())
        if (!a->shortcut().isEmpty())
          lines << QStringLiteral("%1\t%2").arg(a->shortcut().toString(QKeySequence::NativeText),
                                                QString(a->text()).remove(QLatin1Char('&')));
  lines << tr("Double-click a plot\tReset its zoom") << tr("Click or drag in a plot\tSet the split");
  return lines.join(QLatin1Char('\n'));
}

void MainWindow::connectDocument() {
  connect(document_, &Document::opened, this, &MainWindow::onOpened);
  connect(document_, &Document::openFailed, this, [this](const QString& path, const QString& message) {
    if (restore_ && restore_->isOpening(path)) return;  // the restore reports it, naming the session
    showError(tr("Could not open"), message);
  });
  connect(document_, &Document::errorOccurred, this,
          [this](const QString& message) { showError(tr("ESS Explorer"), message); });
  connect(document_, &Document::inputChanged, this, [this](const QString& spec) {
    const ess::SourceInfo& info = document_->info();
    controls_->setInputState(info.needsInput, spec, info.vocabSize, info.maxLength);
    updateFileLabel();
  });
  connect(document_, &Document::cancelled, this, [this] { statusBar()->showMessage(tr("Cancelled."), 4000); });
  connect(document_, &Document::busyChanged, this, [this](bool busy, const QString& what) {
    progress_->setVisible(busy);
    cancelButton_->setVisible(busy);
    busyLabel_->setText(busy ? what + QStringLiteral("…") : QString());
    if (busy) progress_->setRange(0, 0);  // busy indicator until the first progress report
  });
  connect(document_, &Document::progressChanged, this, [this](qint64 done, qint64 total) {
    progress_->setRange(0, 1000);
    progress_->setValue(int(total > 0 ? done * 1000 / total : 0));
  });
}

// ---------------------------------------------------------------------------------------------
// Document events

void MainWindow::openPath(const QString& path) {
  if (path.isEmpty()) return;
  if (sessionfile::looksLikeSession(path)) {
    openSession(path);
    return;
  }
  statusBar()->showMessage(tr("Opening %1…").arg(path));
  document_->open(path);
}

void MainWindow::onOpened(const QString& path) {
  statusBar()->clearMessage();
  const ess::SourceInfo& info = document_->info();
  setWindowTitle(tr("ESS Explorer - %1").arg(QFileInfo(path).fileName()));
  updateFileLabel();
  controls_->setInputState(info.needsInput, document_->inputSpec(), info.vocabSize, info.maxLength);
  addRecent(path);
  QVector<int> heads;
  for (const ess::LayerSummary& l : info.layers) heads << l.heads;
  selection_->setLayers(heads);
  // Options set before this document opened apply to it.
  document_->setOptions(controls_->options());
  for (TabPresenter* p : presenters_) p->documentOpened();
  tree_->populate();
  if (document_->layerCount() > 0) selectHead(0, 0);
  restoreAfterReload(path);
}

void MainWindow::updateFileLabel() {
  const ess::SourceInfo& info = document_->info();
  QString description = QString::fromStdString(info.description);
  if (info.needsInput) description += tr("  |  input %1").arg(document_->inputSpec());
  fileLabel_->setFullText(description, document_->path());
}

void MainWindow::selectHead(int layer, int head) { selection_->selectHead(layer, head); }

void MainWindow::selectGroup(int layer, int first, int last) { selection_->selectGroup(layer, first, last); }

void MainWindow::selectLayerTotal(int layer) { selection_->selectLayerTotal(layer); }

void MainWindow::showLayerComparison() { layers_->showLayerComparison(); }

// ---------------------------------------------------------------------------------------------
// Files changed on disk

QWidget* MainWindow::withReloadBar(QWidget* central) {
  auto* box = new QWidget(this);
  auto* layout = new QVBoxLayout(box);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  reloadBar_ = new ReloadBar(box);
  layout->addWidget(reloadBar_);
  layout->addWidget(central, 1);
  connect(document_, &Document::sourceChanged, reloadBar_, &ReloadBar::showChange);
  connect(document_, &Document::sourceChanged, this,
          [this](const QString& file) { statusBar()->showMessage(tr("%1 changed on disk").arg(file), 8000); });
  connect(reloadBar_, &ReloadBar::reloadRequested, this, &MainWindow::reloadFromDisk);
  connect(reloadBar_, &ReloadBar::keepRequested, document_, &Document::keepAsOpened);
  connect(document_, &Document::opened, reloadBar_, &QWidget::hide);
  connect(document_, &Document::openFailed, this, [this] { reloading_ = false; });
  return box;
}

void MainWindow::reloadFromDisk() {
  if (!document_->isOpen()) return;
  reloadBar_->hide();
  const Selection& s = *selection_;
  reloadPoint_ = {document_->path(), s.isLayerTotal() ? 2 : s.isAggregate() ? 1 : 0, s.layer(), s.first(), s.last(),
                  split_->split()};
  reloading_ = true;
  statusBar()->showMessage(tr("Reloading %1…").arg(document_->path()));
  document_->reload();
}

void MainWindow::openCheckpointKeepingView(const QString& path) {
  if (!document_->isOpen() || !selection_->isValid()) {
    openPath(path);
    return;
  }
  const Selection& s = *selection_;
  reloadPoint_ = {path,           s.isLayerTotal() ? 2 : s.isAggregate() ? 1 : 0, s.layer(), s.first(), s.last(),
                  split_->split()};
  reloading_ = true;
  statusBar()->showMessage(tr("Opening %1…").arg(path));
  document_->openAtInput(path, document_->info().needsInput ? document_->inputSpec() : QString());
}

bool MainWindow::isRun(const QString& path) {
  const QFileInfo info(path);
  if (info.isDir()) {
    for (const QString& name : QDir(path).entryList(QDir::Dirs | QDir::NoDotAndDotDot))
      if (ess::stepFromCheckpointName(name.toStdString()) >= 0) return true;
    return false;
  }
  // A list of checkpoints is a small text file every entry of which exists; any other text
  // (an input to tokenize) is not.
  constexpr qint64 kMaxList = 1 << 20;
  if (!info.isFile() || info.suffix().toLower() != QLatin1String("txt") || info.size() > kMaxList) return false;
  try {
    ess::openTrainingRun(path.toStdString());
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

void MainWindow::restoreAfterReload(const QString& path) {
  if (!reloading_ || path != reloadPoint_.path) {
    reloading_ = false;
    return;
  }
  reloading_ = false;
  const ReloadPoint& p = reloadPoint_;
  if (p.layer < 0 || p.layer >= document_->layerCount()) return;  // the new file is shorter: layer 0
  const int heads = document_->headCount(p.layer);
  if (p.kind == 2)
    selectLayerTotal(p.layer);
  else if (p.kind == 1 && p.last < heads)
    selectGroup(p.layer, p.first, p.last);
  else
    selectHead(p.layer, std::min(p.first, heads - 1));
  split_->setLength(document_->sequenceLength());
  split_->setSplit(p.split);
}

void MainWindow::onMemoryBudgetChanged(qint64 bytes) {
  document_->setMemoryBudget(bytes);
  const double gib = double(bytes) / double(qint64(1) << 30);
  statusBar()->showMessage(tr("Memory budget for dense operators: %1 GiB").arg(gib, 0, 'g', 4), 5000);
  head_->memoryBudgetChanged();
}

QString MainWindow::errorSummary(const QString& message) {
  constexpr int kMaxChars = 300;
  QString first = message.section(QLatin1Char('\n'), 0, 0).trimmed();
  if (first.size() > kMaxChars) first = first.left(kMaxChars - 1) + QChar(0x2026);
  return first;
}

void MainWindow::showError(const QString& title, const QString& message) {
  statusBar()->showMessage(message, 8000);
  // One refusal often fails several requests at once (overview, curve, spectrum of a layer
  // over the memory budget): the same message again within a few seconds is not re-shown.
  if (message == lastError_ && lastErrorTime_.isValid() && lastErrorTime_.elapsed() < 3000) return;
  lastError_ = message;
  lastErrorTime_.start();
  if (presentError_) presentError_(title, message);
}

// ---------------------------------------------------------------------------------------------
// Keys, drag and drop

bool MainWindow::handleSplitKey(QKeyEvent* event) {
  const int step = event->modifiers() & Qt::ShiftModifier ? 10 : 1;
  switch (event->key()) {
    case Qt::Key_Left:
      split_->step(-step);
      return true;
    case Qt::Key_Right:
      split_->step(step);
      return true;
    case Qt::Key_Home:
      split_->setSplit(split_->minimum());
      return true;
    case Qt::Key_End:
      split_->setSplit(split_->maximum());
      return true;
    default:
      return false;
  }
}

void MainWindow::closeEvent(QCloseEvent* event) {
  QSettings settings;
  settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
  settings.setValue(QStringLiteral("window/state"), saveState());
  QMainWindow::closeEvent(event);
}

void MainWindow::keyPressEvent(QKeyEvent* event) {
  if (handleSplitKey(event)) {
    event->accept();
    return;
  }
  QMainWindow::keyPressEvent(event);
}

bool MainWindow::eventFilter(QObject* watched, QEvent* event) {
  if (event->type() == QEvent::KeyPress) {
    auto* key = static_cast<QKeyEvent*>(event);
    // Left/Right move the split everywhere: in the tree (which would collapse items), on the
    // slider (which would step by 1 without Shift) and on the views.
    const bool arrow = key->key() == Qt::Key_Left || key->key() == Qt::Key_Right;
    if (arrow && handleSplitKey(key)) return true;
  } else if (event->type() == QEvent::MouseButtonPress) {
    if (auto* v = qobject_cast<PlotView*>(watched)) lastView_ = v;
  }
  return QMainWindow::eventFilter(watched, event);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  const QMimeData* mime = event->mimeData();
  if (mime->hasUrls() && !mime->urls().isEmpty() && mime->urls().first().isLocalFile()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  const QList<QUrl> urls = event->mimeData()->urls();
  if (urls.isEmpty() || !urls.first().isLocalFile()) return;
  event->acceptProposedAction();
  const QString path = urls.first().toLocalFile();
  // A run (a folder of checkpoint-<step>/ or step-<N>/ folders, or a list of checkpoints) opens
  // as a run (the Training tab); a text file dropped on an open model becomes its input; anything
  // else is opened as before.
  if (isRun(path)) {
    openRun(path);
    return;
  }
  const QString suffix = QFileInfo(path).suffix().toLower();
  if ((suffix == QLatin1String("txt") || suffix == QLatin1String("text") || suffix == QLatin1String("md")) &&
      document_->isOpen() && document_->info().needsInput) {
    document_->setInput(QStringLiteral("textfile:") + path);
    return;
  }
  openPath(path);
}

// ---------------------------------------------------------------------------------------------
// Files and export

void MainWindow::openFileDialog() {
  const QString start = document_->isOpen() ? QFileInfo(document_->path()).absolutePath() : QString();
  const QString path = QFileDialog::getOpenFileName(
      this, tr("Open Checkpoint or Operator File"), start,
      tr("Checkpoints and operators (*.safetensors *.pt *.pth *.bin *.json);;All files (*)"));
  if (!path.isEmpty()) openPath(path);
}

void MainWindow::openFolderDialog() {
  const QString start = document_->isOpen() ? QFileInfo(document_->path()).absolutePath() : QString();
  const QString path = QFileDialog::getExistingDirectory(this, tr("Open Checkpoint Folder"), start);
  if (!path.isEmpty()) openPath(path);
}

void MainWindow::openRunDialog() {
  const QString path = QFileDialog::getExistingDirectory(this, tr("Open Run (a folder of checkpoints)"));
  if (!path.isEmpty()) openRun(path);
}

void MainWindow::openRun(const QString& path) {
  if (!training_) {
    training_ = new TrainingTab(this);
    connect(training_, &TrainingTab::checkpointRequested, this, [this](const QString& checkpoint) {
      openCheckpointKeepingView(checkpoint);
      showTab(Tab::Head);
    });
    connect(head_, &HeadPresenter::checkpointRequested, this, &MainWindow::openCheckpointKeepingView);
  }
  try {
    training_->openRun(path);
  } catch (const std::exception& e) {
    showError(tr("Cannot open the run"), QString::fromStdString(e.what()));
    return;
  }
  QStringList paths, names;
  QHash<QString, qint64> steps;  // the `step` column of compare exports
  for (const ess::RunCheckpoint& c : training_->run().checkpoints) {
    paths << QString::fromStdString(c.path);
    steps.insert(paths.last(), c.step);
    names << (c.step >= 0 ? tr("%1 (step %2)").arg(QString::fromStdString(c.name)).arg(c.step)
                          : QString::fromStdString(c.name));
  }
  head_->setCheckpoints(paths, names);
  comparison_->setRunSteps(steps);
  if (tabs_->indexOf(training_) < 0) tabs_->addTab(training_, tr("Training"));
  tabs_->setCurrentWidget(training_);
}

void MainWindow::openSessionDialog() {
  const QString start = document_->isOpen() ? QFileInfo(document_->path()).absolutePath() : QString();
  const QString path = QFileDialog::getOpenFileName(this, tr("Open Session"), start,
                                                    tr("ESS Explorer sessions (*.json);;All files (*)"));
  if (!path.isEmpty()) openSession(path);
}

void MainWindow::saveSessionDialog() {
  if (!document_->isOpen()) {
    statusBar()->showMessage(tr("Save Session: open a checkpoint or operator file first"), 5000);
    return;
  }
  const QString suggested = QFileInfo(document_->path()).absolutePath() + QLatin1Char('/') +
                            QFileInfo(document_->path()).completeBaseName() + QStringLiteral("_session.json");
  QString path =
      QFileDialog::getSaveFileName(this, tr("Save Session"), suggested, tr("ESS Explorer sessions (*.json)"));
  if (path.isEmpty()) return;
  if (QFileInfo(path).suffix().isEmpty()) path += QStringLiteral(".json");
  QString error;
  if (saveSession(path, &error))
    statusBar()->showMessage(tr("Saved session %1").arg(path), 5000);
  else
    showError(tr("Could not save the session"), error);
}

bool MainWindow::saveSession(const QString& path, QString* error) {
  if (!document_->isOpen()) {
    if (error) *error = tr("Nothing to save: no checkpoint or operator file is open.");
    return false;
  }
  if (!sessionfile::write(path, captureSession(*this), error)) return false;
  addRecent(path);
  return true;
}

void MainWindow::openSession(const QString& path) {
  SessionState state;
  QString error;
  if (!sessionfile::read(path, &state, &error)) {
    showError(tr("Could not open the session"), error);
    return;
  }
  delete restore_;  // a restore still running gives way
  restore_ = new SessionRestore(this, state, QFileInfo(path).absoluteFilePath());
  connect(restore_, &SessionRestore::failed, this,
          [this](const QString& message) { showError(tr("Could not restore the session"), message); });
  connect(restore_, &SessionRestore::finished, this, [this](const QString& session) {
    addRecent(session);  // after the checkpoint, so the session heads the list
    statusBar()->showMessage(tr("Restored session %1").arg(session), 5000);
    emit sessionRestored(session);
  });
  statusBar()->showMessage(tr("Opening session %1…").arg(path));
  restore_->start();
}

void MainWindow::addRecent(const QString& path) {
  QSettings settings;
  QStringList recent = settings.value(kRecentKey).toStringList();
  const QString abs = QFileInfo(path).absoluteFilePath();
  recent.removeAll(abs);
  recent.prepend(abs);
  while (recent.size() > kMaxRecent) recent.removeLast();
  settings.setValue(kRecentKey, recent);
  rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
  recentMenu_->clear();
  const QStringList recent = QSettings().value(kRecentKey).toStringList();
  for (const QString& path : recent) {
    QAction* a = recentMenu_->addAction(QFileInfo(path).fileName() + QStringLiteral("  (") +
                                        QFileInfo(path).absolutePath() + QStringLiteral(")"));
    connect(a, &QAction::triggered, this, [this, path] { openPath(path); });
  }
  recentMenu_->setEnabled(!recent.isEmpty());
  if (!recent.isEmpty()) {
    recentMenu_->addSeparator();
    recentMenu_->addAction(tr("Clear"), this, [this] {
      QSettings().remove(kRecentKey);
      rebuildRecentMenu();
    });
  }
}

bool MainWindow::exportView(PlotView* view, const QString& path, const figure::ExportOptions& options, QString* error) {
  return figure::save(view, path, options, error);
}

QString MainWindow::suggestedExportName(PlotView* view, const QString& suffix) const {
  const QString base = document_->isOpen() ? QFileInfo(document_->path()).completeBaseName() : QStringLiteral("ess");
  for (TabPresenter* p : presenters_)
    if (p->views().contains(view)) return p->exportName(view, base, suffix);
  return base + QLatin1Char('_') + view->figureName() + QLatin1Char('.') + suffix;
}

void MainWindow::exportDialog() {
  const QList<PlotView*> all = views();
  PlotView* preferred = exportPreselection();
  ExportDialog dialog(all, exportViewNames(), std::max<int>(0, all.indexOf(preferred)), this);
  if (dialog.exec() != QDialog::Accepted) return;
  PlotView* view = all.value(dialog.viewIndex(), head_->heatmap());
  const QString suffix = dialog.suffix();
  QString path = QFileDialog::getSaveFileName(this, tr("Export View"), suggestedExportName(view, suffix),
                                              suffix.toUpper() + QStringLiteral(" (*.") + suffix + QLatin1Char(')'));
  if (path.isEmpty()) return;
  if (QFileInfo(path).suffix().isEmpty()) path += QLatin1Char('.') + suffix;
  QString error;
  if (dialog.exportView(view, path, &error))  // in the dialog's style and size
    statusBar()->showMessage(tr("Exported %1").arg(path), 5000);
  else
    showError(tr("Export failed"), error);
}
