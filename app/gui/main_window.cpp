#include "main_window.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QCloseEvent>
#include <QSettings>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <functional>

#include "controls_panel.h"
#include "document.h"
#include "ess_curve_view.h"
#include "export_dialog.h"
#include "heatmap_view.h"
#include "layer_comparison_view.h"
#include "position_ess_view.h"
#include "spectrum_view.h"
#include "split_point.h"
#include "view_data.h"

namespace {

/// Inputs made of text (text:..., textfile:...) label the heatmap's axes with their tokens;
/// token-id inputs (MQAR, tokens:, random:) keep position numbers there (ids in the hover).
bool isTextInput(const QString& spec) {
  return spec.startsWith(QLatin1String("text:")) || spec.startsWith(QLatin1String("textfile:"));
}
constexpr int kMaxRecent = 8;
constexpr int kLayerRole = Qt::UserRole;
constexpr int kHeadRole = Qt::UserRole + 1;   // single head or channel items
constexpr int kFirstRole = Qt::UserRole + 2;  // group and layer-total items: first..last
constexpr int kLastRole = Qt::UserRole + 3;
constexpr int kTotalRole = Qt::UserRole + 4;  // the layer-total item
const char* kRecentKey = "recentFiles";

}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle(tr("ESS Explorer"));
  setAcceptDrops(true);
  document_ = new Document(this);
  split_ = new SplitPoint(this);
  presentError_ = [this](const QString& title, const QString& message) {
    QMessageBox::critical(this, title, message);
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
  return tr("Click the heatmap or the curve to set the split, drag the red outline, arrows move "
            "it; wheel zooms, double-click resets.");
}

QList<PlotView*> MainWindow::views() const { return {heatmap_, curve_, spectrum_, layers_, position_}; }

QStringList MainWindow::exportViewNames() const {
  QStringList names;
  for (PlotView* v : views()) {
    if (v == heatmap_) names << tr("Heatmap of T");
    else if (v == curve_) names << tr("ESS curve");
    else if (v == spectrum_) names << tr("Singular values of H_s");
    else if (v == layers_) names << tr("Layer comparison");
    else if (v == position_) names << tr("ESS over position");
    else names << v->figureName();
  }
  return names;
}

PlotView* MainWindow::exportPreselection() const {
  switch (tabs_->currentIndex()) {
    case 1: return layers_;
    case 2: return position_;
    default:
      // Head tab: the heatmap, or the curve or spectrum when that was clicked last.
      return lastView_ == curve_ || lastView_ == spectrum_ ? lastView_ : heatmap_;
  }
}

QLabel* MainWindow::fileLabel() const { return fileLabel_; }

// ---------------------------------------------------------------------------------------------
// Layout

void MainWindow::buildCentral() {
  heatmap_ = new HeatmapView(this);
  curve_ = new EssCurveView(this);
  spectrum_ = new SpectrumView(this);
  layers_ = new LayerComparisonView(this);
  position_ = new PositionEssView(this);
  for (PlotView* v : views()) {
    v->setSplitPoint(v == layers_ ? nullptr : split_);
    connect(v, &PlotView::splitRequested, split_, &SplitPoint::setSplit);
    connect(v, &PlotView::hoverChanged, this, [this](const QString& text) {
      hoverLabel_->setText(text.isEmpty() ? hint() : text);
    });
    v->installEventFilter(this);
    v->setFocusPolicy(Qt::ClickFocus);
  }
  connect(layers_, &LayerComparisonView::headActivated, this, [this](int layer, int column) {
    // Grouped layers show one column per channel group.
    const std::vector<ess::ChannelGroup> groups = viewdata::groupsOf(document_->info(), layer);
    if (groups.empty()) selectHead(layer, column);
    else if (column >= 0 && column < int(groups.size())) selectGroup(layer, groups[column].first, groups[column].last);
    tabs_->setCurrentIndex(0);
  });
  connect(layers_, &LayerComparisonView::layerActivated, this, [this](int layer) {
    selectLayerTotal(layer);
    tabs_->setCurrentIndex(0);
  });
  lastView_ = heatmap_;

  // Head tab: heatmap | (curve / spectrum), split controls below.
  auto* headPage = new QWidget(this);
  auto* headLayout = new QVBoxLayout(headPage);
  headLayout->setContentsMargins(2, 2, 2, 2);
  auto* right = new QSplitter(Qt::Vertical, headPage);
  right->addWidget(curve_);
  right->addWidget(spectrum_);
  right->setSizes({450, 350});
  auto* main = new QSplitter(Qt::Horizontal, headPage);
  main->addWidget(heatmap_);
  main->addWidget(right);
  main->setStretchFactor(0, 11);
  main->setStretchFactor(1, 9);
  main->setSizes({620, 500});
  headLayout->addWidget(main, 1);

  auto* splitRow = new QHBoxLayout;
  auto* splitLabel = new QLabel(tr("Split s:"), headPage);
  slider_ = new QSlider(Qt::Horizontal, headPage);
  slider_->setRange(0, 0);
  slider_->setToolTip(tr("Split s: H_s = T[s:, :s]. Left/Right arrows move it, Shift for 10."));
  splitSpin_ = new QSpinBox(headPage);
  splitSpin_->setRange(0, 0);
  splitSpin_->setMinimumWidth(80);
  splitLabel->setBuddy(splitSpin_);
  splitRow->addWidget(splitLabel);
  splitRow->addWidget(slider_, 1);
  splitRow->addWidget(splitSpin_);
  headLayout->addLayout(splitRow);
  slider_->installEventFilter(this);
  connect(slider_, &QSlider::valueChanged, split_, &SplitPoint::setSplit);
  connect(splitSpin_, qOverload<int>(&QSpinBox::valueChanged), split_, &SplitPoint::setSplit);
  connect(split_, &SplitPoint::lengthChanged, this, [this](int) {
    const QSignalBlocker b1(slider_), b2(splitSpin_);
    slider_->setRange(split_->minimum(), split_->maximum());
    splitSpin_->setRange(split_->minimum(), split_->maximum());
    slider_->setPageStep(10);
    slider_->setValue(split_->split());
    splitSpin_->setValue(split_->split());
  });
  connect(split_, &SplitPoint::splitChanged, this, &MainWindow::onSplitChanged);

  // Layers tab.
  auto* layersPage = new QWidget(this);
  auto* layersLayout = new QVBoxLayout(layersPage);
  layersLayout->setContentsMargins(2, 2, 2, 2);
  auto* layersBar = new QHBoxLayout;
  auto* compute = new QPushButton(tr("Compute all layers"), layersPage);
  layerStatus_ = new QLabel(tr("Every layer's total ESS beside its theoretical state size, and the mean "
                               "tolerance-ESS per head or channel group; click to open."),
                            layersPage);
  layerStatus_->setWordWrap(true);
  layersBar->addWidget(compute);
  layersBar->addWidget(layerStatus_, 1);
  layersLayout->addLayout(layersBar);
  layersLayout->addWidget(layers_, 1);
  connect(compute, &QPushButton::clicked, this, &MainWindow::showLayerComparison);

  // Position tab: ESS over position of the selection (or of every layer's total).
  auto* positionPage = new QWidget(this);
  auto* positionLayout = new QVBoxLayout(positionPage);
  positionLayout->setContentsMargins(2, 2, 2, 2);
  auto* positionBar = new QHBoxLayout;
  positionAll_ = new QCheckBox(tr("All layers (layer totals)"), positionPage);
  positionAll_->setToolTip(tr("One row per layer, each layer's total; computes every layer's curves"));
  positionMarks_ = new QLineEdit(positionPage);
  positionMarks_->setText(QString::fromUtf8(viewdata::kDefaultMarks));
  positionMarks_->setToolTip(tr("Tokens to mark, comma-separated; \\n is a newline, \\, a comma"));
  auto* marksLabel = new QLabel(tr("mark tokens:"), positionPage);
  marksLabel->setBuddy(positionMarks_);
  positionBar->addWidget(positionAll_);
  positionBar->addSpacing(12);
  positionBar->addWidget(marksLabel);
  positionBar->addWidget(positionMarks_, 1);
  positionLayout->addLayout(positionBar);
  positionLayout->addWidget(position_, 1);
  position_->setMarkedTokens(PositionEssView::parseMarks(positionMarks_->text()));
  connect(positionMarks_, &QLineEdit::textChanged, this, [this](const QString& text) {
    position_->setMarkedTokens(PositionEssView::parseMarks(text));
  });
  connect(positionAll_, &QCheckBox::toggled, this, [this](bool all) {
    if (all && document_->isOpen()) document_->requestAllCurves();
    refreshPositionView();
  });

  tabs_ = new QTabWidget(this);
  tabs_->addTab(headPage, tr("Head"));
  tabs_->addTab(layersPage, tr("Layers"));
  tabs_->addTab(positionPage, tr("Position"));
  connect(tabs_, &QTabWidget::currentChanged, this, [this](int index) {
    if (index == 1) showLayerComparison();
    if (index == 2) {
      if (positionAll_->isChecked() && document_->isOpen()) document_->requestAllCurves();
      refreshPositionView();
    }
  });
  setCentralWidget(tabs_);
}

void MainWindow::buildSidePanel() {
  auto* panel = new QWidget(this);
  auto* layout = new QVBoxLayout(panel);
  layout->setContentsMargins(2, 2, 2, 2);
  tree_ = new QTreeWidget(panel);
  tree_->setHeaderLabel(tr("Layers and heads"));
  tree_->header()->setStretchLastSection(true);
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

  connect(tree_, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem* item) {
    if (populating_ || !item) return;
    const int layer = item->data(0, kLayerRole).toInt();
    const QVariant head = item->data(0, kHeadRole);
    const QVariant first = item->data(0, kFirstRole);
    if (head.isValid()) {
      selectHead(layer, head.toInt());
    } else if (item->data(0, kTotalRole).toBool()) {
      selectLayerTotal(layer);
    } else if (first.isValid()) {
      selectGroup(layer, first.toInt(), item->data(0, kLastRole).toInt());
    } else {
      const int h = layer == layer_ ? head_ : 0;
      selectHead(layer, std::clamp(h, 0, std::max(0, document_->headCount(layer) - 1)));
    }
  });
  connect(controls_, &ControlsPanel::inputRequested, document_, &Document::setInput);
  connect(controls_, &ControlsPanel::statusMessage, this, [this](const QString& text) {
    statusBar()->showMessage(text, 5000);
  });
  connect(controls_, &ControlsPanel::optionsChanged, document_, &Document::setOptions);
  connect(controls_, &ControlsPanel::logScaleChanged, this, [this](bool log) {
    heatmap_->setScale(log ? HeatmapView::Scale::Log10 : HeatmapView::Scale::Linear);
  });
  connect(controls_, &ControlsPanel::allHeadsChanged, this, [this] { refreshCurveView(); });
  document_->setMemoryBudget(controls_->memoryBudget());
  connect(controls_, &ControlsPanel::memoryBudgetChanged, this, &MainWindow::onMemoryBudgetChanged);
  connect(heatmap_, &HeatmapView::tileRequested, this,
          [this](int rowBegin, int rowEnd, int columnBegin, int columnEnd, int maxRows, int maxColumns) {
            if (layer_ < 0 || !document_->isTiled(layer_)) return;
            ess::TileRequest req;
            req.rowBegin = rowBegin;
            req.rowEnd = rowEnd;
            req.columnBegin = columnBegin;
            req.columnEnd = columnEnd;
            req.maxRows = maxRows;
            req.maxColumns = maxColumns;
            document_->requestDetailTile(layer_, head_, req);
          });
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
  recentMenu_ = file->addMenu(tr("Open &Recent"));
  rebuildRecentMenu();
  file->addSeparator();
  QAction* exportAction = file->addAction(tr("&Export View..."), this, &MainWindow::exportDialog);
  exportAction->setShortcut(QKeySequence(tr("Ctrl+E")));
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
  quit->setShortcut(QKeySequence::Quit);

  QMenu* view = menuBar()->addMenu(tr("&View"));
  view->addAction(tr("&Head"), this, [this] { tabs_->setCurrentIndex(0); })->setShortcut(QKeySequence(tr("Ctrl+1")));
  view->addAction(tr("&Layers"), this, [this] { tabs_->setCurrentIndex(1); })->setShortcut(QKeySequence(tr("Ctrl+2")));
  view->addAction(tr("&Position"), this, [this] { tabs_->setCurrentIndex(2); })->setShortcut(QKeySequence(tr("Ctrl+3")));
  view->addAction(tr("&Reset Zoom"), this, [this] {
    heatmap_->resetView();
    curve_->resetView();
    curve_->replot();
  });
}

void MainWindow::connectDocument() {
  connect(document_, &Document::opened, this, &MainWindow::onOpened);
  connect(document_, &Document::openFailed, this, [this](const QString&, const QString& message) {
    showError(tr("Could not open"), message);
  });
  connect(document_, &Document::errorOccurred, this, [this](const QString& message) {
    showError(tr("ESS Explorer"), message);
  });
  connect(document_, &Document::inputChanged, this, [this](const QString& spec) {
    const ess::SourceInfo& info = document_->info();
    controls_->setInputState(info.needsInput, spec, info.vocabSize, info.maxLength);
    updateFileLabel();
    layers_->clear();
    position_->clear();
    heatmap_->setTokenLabels(document_->tokenLabels(), isTextInput(document_->inputSpec()));
    for (int l = 0; l < document_->layerCount(); ++l) updateTreeTotals(l);
    requestCurrent();
    if (tabs_->currentIndex() == 1) showLayerComparison();
    if (tabs_->currentIndex() == 2 && positionAll_->isChecked()) document_->requestAllCurves();
  });
  connect(document_, &Document::optionsChanged, this, &MainWindow::onOptionsChanged);
  connect(document_, &Document::operatorReady, this, &MainWindow::onOperatorReady);
  connect(document_, &Document::curveReady, this, &MainWindow::onCurveReady);
  connect(document_, &Document::groupOperatorReady, this, &MainWindow::onGroupOperatorReady);
  connect(document_, &Document::tileReady, this, &MainWindow::onTileReady);
  connect(document_, &Document::tileFailed, this, [this](int layer, int head, const QString&) {
    if (layer != layer_ || head != head_) return;
    // Do not leave another layer's picture under this selection.
    heatmap_->clear();
    shownOverview_ = nullptr;
    heatmap_->setTitle(tr("operator T, %1: not available").arg(headTitle()));
  });
  connect(document_, &Document::spectrumReady, this, &MainWindow::onSpectrumReady);
  connect(document_, &Document::layerSummaryReady, this, [this] {
    refreshLayerView();
    refreshPositionView();
    layerStatus_->setText(tr("Top: layer totals, means over splits (tolerance %1); bottom: mean tolerance-ESS "
                             "per head or channel group. Click a layer's bars or a cell to open it.")
                              .arg(document_->options().tolerance_, 0, 'g', 3));
  });
  connect(document_, &Document::cancelled, this, [this] {
    statusBar()->showMessage(tr("Cancelled."), 4000);
  });
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
  layer_ = head_ = first_ = last_ = -1;
  aggregate_ = total_ = false;
  // Options set before this document opened apply to it.
  document_->setOptions(controls_->options());
  heatmap_->clear();
  shownOverview_ = nullptr;
  curve_->clear();
  spectrum_->clear();
  layers_->clear();
  position_->clear();
  heatmap_->setTokenLabels(document_->tokenLabels(), isTextInput(document_->inputSpec()));
  populateTree();
  if (document_->layerCount() > 0) selectHead(0, 0);
  if (tabs_->currentIndex() == 1) showLayerComparison();
}

void MainWindow::updateFileLabel() {
  const ess::SourceInfo& info = document_->info();
  QString description = QString::fromStdString(info.description);
  if (info.needsInput) description += tr("  |  input %1").arg(document_->inputSpec());
  fileLabel_->setFullText(description, document_->path());
}

void MainWindow::populateTree() {
  populating_ = true;
  tree_->clear();
  const ess::SourceInfo& info = document_->info();
  for (const ess::LayerSummary& l : info.layers) {
    const QString noun = viewdata::unitNoun(info, l.index);
    const QString nouns = viewdata::unitNoun(info, l.index, true);
    auto* item = new QTreeWidgetItem(tree_);
    item->setText(0, tr("layer %1: %2 (%3 %4)")
                         .arg(l.index)
                         .arg(QString::fromStdString(l.mixer))
                         .arg(l.heads)
                         .arg(l.heads == 1 ? noun : nouns));
    item->setData(0, kLayerRole, l.index);
    QString tip = tr("mixer %1, %2 %3").arg(QString::fromStdString(l.mixer)).arg(l.heads).arg(nouns);
    if (l.valueChannels > 1) tip += tr(", %1 value channels per head").arg(l.valueChannels);
    if (!l.tss.empty()) tip += tr("\ntheoretical state size per %1: %2").arg(noun, QString::fromStdString(l.tss));
    item->setToolTip(0, tip);

    // The layer total: every head summed, each times its value channels.
    auto* total = new QTreeWidgetItem(item);
    total->setData(0, kLayerRole, l.index);
    total->setData(0, kFirstRole, 0);
    total->setData(0, kLastRole, l.heads - 1);
    total->setData(0, kTotalRole, true);
    QFont bold = total->font(0);
    bold.setBold(true);
    total->setFont(0, bold);

    auto addHead = [&](QTreeWidgetItem* parent, int h) {
      auto* child = new QTreeWidgetItem(parent);
      child->setText(0, tr("%1 %2").arg(noun).arg(h));
      child->setData(0, kLayerRole, l.index);
      child->setData(0, kHeadRole, h);
    };
    const std::vector<ess::ChannelGroup> groups = viewdata::groupsOf(info, l.index);
    if (groups.empty()) {
      for (int h = 0; h < l.heads; ++h) addHead(item, h);
    } else {
      for (const ess::ChannelGroup& g : groups) {
        auto* group = new QTreeWidgetItem(item);
        group->setText(0, QString::fromStdString(g.label));
        group->setData(0, kLayerRole, l.index);
        group->setData(0, kFirstRole, g.first);
        group->setData(0, kLastRole, g.last);
        group->setToolTip(0, tr("%1 summed (each times %2 value channel(s)); expand for single %3")
                                 .arg(QString::fromStdString(g.label))
                                 .arg(l.valueChannels)
                                 .arg(nouns));
        for (int h = g.first; h <= g.last; ++h) addHead(group, h);
      }
    }
    updateTreeTotals(l.index);
  }
  tree_->expandToDepth(0);  // layers open, channel groups closed
  populating_ = false;
}

void MainWindow::updateTreeTotals(int layer) {
  QTreeWidgetItem* item = treeItemFor(layer, 0, document_->headCount(layer) - 1, true, true);
  if (!item) return;
  ess::HeadTotal t;
  if (!document_->total(layer, 0, document_->headCount(layer) - 1, &t)) {
    item->setText(0, tr("layer total"));
    item->setToolTip(0, tr("Every %1 summed, each times its value channels (computing…)")
                            .arg(viewdata::unitNoun(document_->info(), layer)));
    return;
  }
  const auto num = [](double v) {
    return std::isfinite(v) ? QString::number(v, 'f', v < 100 ? 1 : 0) : QStringLiteral("?");
  };
  const double u = t.utilizationSummary.mean;
  QString text = tr("layer total: ESS %1 / TSS %2").arg(num(t.toleranceSummary.mean), num(t.tssSummary.mean));
  if (std::isfinite(u)) text += tr(", mean utilization %1 %").arg(100.0 * u, 0, 'f', 1);
  item->setText(0, text);
  item->setToolTip(0, tr("Layer total, means over %1 splits: tolerance-ESS %2, entropy-ESS %3, theoretical state "
                         "size %4, utilization %5\nEvery %6 summed, each times %7 value channel(s) (MIMO units)")
                          .arg(t.splits.size())
                          .arg(t.toleranceSummary.mean, 0, 'g', 5)
                          .arg(t.entropySummary.mean, 0, 'g', 5)
                          .arg(t.tssSummary.mean, 0, 'g', 5)
                          .arg(std::isfinite(u) ? QString::number(100.0 * u, 'f', 2) + QStringLiteral(" %")
                                                : tr("unknown"))
                          .arg(viewdata::unitNoun(document_->info(), layer))
                          .arg(t.valueChannels));
}

QTreeWidgetItem* MainWindow::treeItemFor(int layer, int first, int last, bool aggregate, bool total) const {
  QTreeWidgetItem* top = tree_->topLevelItem(layer);
  if (!top) return nullptr;
  std::function<QTreeWidgetItem*(QTreeWidgetItem*)> find = [&](QTreeWidgetItem* parent) -> QTreeWidgetItem* {
    for (int i = 0; i < parent->childCount(); ++i) {
      QTreeWidgetItem* c = parent->child(i);
      if (total && c->data(0, kTotalRole).toBool()) return c;
      if (!total && !aggregate && c->data(0, kHeadRole).isValid() && c->data(0, kHeadRole).toInt() == first) return c;
      if (!total && aggregate && !c->data(0, kTotalRole).toBool() && c->data(0, kFirstRole).isValid() &&
          c->data(0, kFirstRole).toInt() == first && c->data(0, kLastRole).toInt() == last)
        return c;
      if (QTreeWidgetItem* below = find(c)) return below;
    }
    return nullptr;
  };
  return find(top);
}

void MainWindow::selectHead(int layer, int head) { select(layer, head, head, false, false); }

void MainWindow::selectGroup(int layer, int first, int last) { select(layer, first, last, true, false); }

void MainWindow::selectLayerTotal(int layer) {
  select(layer, 0, std::max(0, document_->headCount(layer) - 1), true, true);
}

void MainWindow::select(int layer, int first, int last, bool aggregate, bool total) {
  if (layer < 0 || layer >= document_->layerCount()) return;
  const int heads = document_->headCount(layer);
  if (first < 0 || last < first || last >= heads) return;
  const bool layerChanged = layer != layer_;
  layer_ = layer;
  head_ = first;
  first_ = first;
  last_ = last;
  aggregate_ = aggregate;
  total_ = total;
  // Keep the tree in step without re-entering.
  populating_ = true;
  if (QTreeWidgetItem* item = treeItemFor(layer, first, last, aggregate, total)) tree_->setCurrentItem(item);
  populating_ = false;
  layers_->setCurrentHead(layer, gridColumn());
  if (layerChanged) {
    curve_->clear();
    spectrum_->clear();
  }
  if (document_->operatorData(layer)) onOperatorReady(layer);
  if (document_->curveData(layer)) refreshCurveView();
  refreshPositionView();
  requestCurrent();
}

int MainWindow::gridColumn() const {
  if (layer_ < 0 || total_) return -1;
  const std::vector<ess::ChannelGroup> groups = viewdata::groupsOf(document_->info(), layer_);
  if (groups.empty()) return aggregate_ ? -1 : head_;
  for (int i = 0; i < int(groups.size()); ++i)
    if (head_ >= groups[i].first && head_ <= groups[i].last) return i;
  return -1;
}

QString MainWindow::selectionLabel() const {
  const ess::SourceInfo& info = document_->info();
  const QString noun = viewdata::unitNoun(info, layer_), nouns = viewdata::unitNoun(info, layer_, true);
  if (total_) return tr("layer total (%1 %2)").arg(last_ - first_ + 1).arg(last_ == first_ ? noun : nouns);
  if (aggregate_) return first_ == last_ ? tr("%1 %2").arg(noun).arg(first_)
                                         : tr("%1 %2-%3").arg(nouns).arg(first_).arg(last_);
  return tr("%1 %2").arg(noun).arg(head_);
}

void MainWindow::requestCurrent() {
  if (layer_ < 0) return;
  if (document_->isTiled(layer_)) {
    showTiledLayer();
    return;
  }
  // The curve is requested once the operator is there (onOperatorReady): its length decides
  // whether a strided curve comes first.
  document_->requestOperator(layer_);
}

QString MainWindow::headTitle() const {
  const auto& layers = document_->info().layers;
  if (layer_ < 0 || layer_ >= int(layers.size())) return QString();
  return tr("layer %1 (%2), %3").arg(layer_).arg(QString::fromStdString(layers[layer_].mixer)).arg(selectionLabel());
}

void MainWindow::onOperatorReady(int layer) {
  if (layer != layer_ || document_->isTiled(layer)) return;
  const ess::OperatorData* op = document_->operatorData(layer);
  if (!op || head_ >= op->heads || last_ >= op->heads) return;
  shownOverview_ = nullptr;
  if (!aggregate_) {
    heatmap_->setOperator(op->length, viewdata::headValues(*op, head_),
                          tr("operator T, %1, L = %2").arg(headTitle()).arg(op->length));
  } else if (document_->groupOperator(layer_, first_, last_)) {
    onGroupOperatorReady(layer_, first_, last_);
  } else {
    document_->requestGroupOperator(layer_, first_, last_);
  }
  split_->setLength(op->length);
  document_->requestSpectrum(layer_, head_, split_->split());
  document_->requestCurve(layer);
}

void MainWindow::showTiledLayer() {
  // Long operators: the heatmap comes from tiles, the curve and the spectrum from the
  // structured engine (generator form) without a dense operator.
  split_->setLength(document_->sequenceLength());
  if (document_->overviewTile(layer_, head_)) onTileReady(layer_, head_, true);
  else document_->requestOverviewTile(layer_, head_);
  document_->requestSpectrum(layer_, head_, split_->split());
  document_->requestCurve(layer_);
}

void MainWindow::onTileReady(int layer, int head, bool overview) {
  if (layer != layer_ || head != head_ || !document_->isTiled(layer)) return;
  if (!overview) {
    int l = -1, h = -1;
    const ess::OperatorTile* t = document_->detailTile(&l, &h);
    if (t && l == layer_ && h == head_ && heatmap_->isTiled() && shownOverview_ == document_->overviewTile(layer, head))
      heatmap_->setDetailTile(viewdata::tileOf(*t));
    return;
  }
  const ess::OperatorTile* t = document_->overviewTile(layer, head);
  if (!t) return;
  const int L = document_->sequenceLength();
  // On a second line, so that the first fits above the heatmap.
  const QString sampling = t->rowStep > 1 ? tr("tiled: overview 1:%1, zoom in for detail").arg(t->rowStep)
                                          : tr("tiled: exact entries");
  QString title;
  if (aggregate_) {
    title = tr("operator T, layer %1 (%2), %3 %4, L = %6\n%7; first of %5, no mean |T| when tiled")
                .arg(layer)
                .arg(QString::fromStdString(document_->info().layers[layer].mixer))
                .arg(viewdata::unitNoun(document_->info(), layer))
                .arg(head)
                .arg(selectionLabel())
                .arg(L)
                .arg(sampling);
  } else {
    title = tr("operator T, %1, L = %2\n%3").arg(headTitle()).arg(L).arg(sampling);
  }
  // Already shown (options changed, the same selection again): keep the user's zoom.
  if (heatmap_->isTiled() && shownOverview_ == t && heatmap_->length() == L && heatmap_->title() == title) return;
  heatmap_->setTiledOperator(L, viewdata::tileOf(*t), title);
  shownOverview_ = t;
}

void MainWindow::onMemoryBudgetChanged(qint64 bytes) {
  document_->setMemoryBudget(bytes);
  const double gib = double(bytes) / double(qint64(1) << 30);
  statusBar()->showMessage(tr("Memory budget for dense operators: %1 GiB").arg(gib, 0, 'g', 4), 5000);
  if (layer_ < 0) return;
  // The budget may switch the layer between the dense and the tiled heatmap.
  shownOverview_ = nullptr;
  if (document_->operatorData(layer_) && !document_->isTiled(layer_)) onOperatorReady(layer_);
  requestCurrent();
}

void MainWindow::onGroupOperatorReady(int layer, int first, int last) {
  if (!aggregate_ || layer != layer_ || first != first_ || last != last_) return;
  const ess::OperatorData* op = document_->operatorData(layer);
  const std::vector<double>* mean = document_->groupOperator(layer, first, last);
  if (!op || !mean) return;
  heatmap_->setOperator(op->length, QVector<double>(mean->begin(), mean->end()),
                        tr("mean |T|, layer %1 (%2), %3, L = %4")
                            .arg(layer)
                            .arg(QString::fromStdString(document_->info().layers[layer].mixer))
                            .arg(total_ ? tr("all %1 %2")
                                              .arg(last - first + 1)
                                              .arg(viewdata::unitNoun(document_->info(), layer, true))
                                        : selectionLabel())
                            .arg(op->length));
}

void MainWindow::onCurveReady(int layer, bool) {
  updateTreeTotals(layer);
  if (layer == layer_) refreshCurveView();
  if (layers_->values().size() > 0 || tabs_->currentIndex() == 1) refreshLayerView();
  if (layer == layer_ || positionAll_->isChecked()) refreshPositionView();
}

void MainWindow::refreshPositionView() {
  const QStringList tokens = document_->tokenLabels();
  const QString tol = tr(" (tol %1)").arg(document_->options().tolerance_, 0, 'g', 3);
  QVector<PositionRow> rows;
  if (positionAll_->isChecked()) {
    std::vector<const ess::CurveData*> curves;
    for (int l = 0; l < document_->layerCount(); ++l) curves.push_back(document_->curveData(l));
    rows = viewdata::layerTotalRows(document_->info(), curves);
    const QString missing = rows.size() < document_->layerCount()
                                ? tr(" [%1 of %2 layers]").arg(rows.size()).arg(document_->layerCount())
                                : QString();
    position_->setRows(rows, tokens, tr("ESS over position, every layer's total") + tol + missing);
    return;
  }
  const ess::CurveData* c = document_->curveData(layer_);
  if (!c || head_ < 0 || head_ >= int(c->tolerance.size())) {
    position_->setRows({}, tokens);
    return;
  }
  if (aggregate_) {
    ess::HeadTotal t;
    if (!document_->total(layer_, first_, last_, &t)) return;
    rows.append({layer_, viewdata::totalSeries(t, selectionLabel())});
  } else {
    rows.append({layer_, viewdata::series(*c, head_)});
  }
  position_->setRows(rows, tokens, tr("ESS over position, layer %1 %2").arg(layer_).arg(selectionLabel()) + tol);
}

void MainWindow::refreshCurveView() {
  const ess::CurveData* c = document_->curveData(layer_);
  if (!c || head_ < 0 || head_ >= int(c->tolerance.size())) return;
  const QString tol = tr(" (tol %1)").arg(document_->options().tolerance_, 0, 'g', 3);
  const QString strided =
      c->splits.size() > 1 && c->splits[1] - c->splits[0] > 1 ? tr(" [strided, refining…]") : QString();
  if (aggregate_) {
    ess::HeadTotal t;
    if (!document_->total(layer_, first_, last_, &t)) return;
    const double u = t.utilizationSummary.mean;
    // "layer 0 total (x d_v 32), utilization 34.5 %" (mean over splits): each head counts
    // d_v times.
    QString title = tr("layer %1 %2").arg(layer_).arg(total_ ? tr("total") : selectionLabel());
    if (t.valueChannels > 1) title += tr(" (x d_v %1)").arg(t.valueChannels);
    if (std::isfinite(u)) title += tr(", utilization %1 %").arg(100.0 * u, 0, 'f', 1);
    curve_->setSeries({viewdata::totalSeries(t, total_ ? tr("layer total") : selectionLabel())},
                      title + tol + strided);
    return;
  }
  // All heads: every head of the layer, or of the current channel group in a grouped layer.
  QList<int> heads{head_};
  if (controls_->allHeads()) {
    int lo = 0, hi = int(c->tolerance.size()) - 1;
    for (const ess::ChannelGroup& g : viewdata::groupsOf(document_->info(), layer_))
      if (head_ >= g.first && head_ <= g.last) lo = g.first, hi = g.last;
    for (int h = lo; h <= hi; ++h)
      if (h != head_) heads.append(h);
  }
  const QString noun = viewdata::unitNoun(document_->info(), layer_);
  QVector<EssSeries> series;
  for (int h : heads) series.append(viewdata::series(*c, h, tr("%1 %2").arg(noun).arg(h)));
  QString title = controls_->allHeads() && heads.size() > 1
                      ? tr("ESS, layer %1, %2 %3-%4").arg(layer_).arg(viewdata::unitNoun(document_->info(), layer_, true))
                            .arg(*std::min_element(heads.begin(), heads.end()))
                            .arg(*std::max_element(heads.begin(), heads.end()))
                      : tr("ESS, layer %1 %2 %3").arg(layer_).arg(noun).arg(head_);
  curve_->setSeries(series, title + tol + strided);
}

void MainWindow::refreshLayerView() {
  std::vector<const ess::CurveData*> curves;
  for (int l = 0; l < document_->layerCount(); ++l) curves.push_back(document_->curveData(l));
  viewdata::fillLayerView(*layers_, document_->info(), curves);
  layers_->setCurrentHead(layer_, gridColumn());
}

void MainWindow::onSpectrumReady(int layer, int head, int split, const QVector<double>& sigma) {
  if (layer != layer_ || head != head_) return;
  QString title;
  if (aggregate_)
    title = tr("%1 %2 (first of %3)")
                 .arg(viewdata::unitNoun(document_->info(), layer))
                 .arg(head)
                 .arg(total_ ? tr("the layer") : selectionLabel());
  spectrum_->setSpectrum(split, sigma, title);
}

void MainWindow::onSplitChanged(int split) {
  {
    const QSignalBlocker b1(slider_), b2(splitSpin_);
    slider_->setValue(split);
    splitSpin_->setValue(split);
  }
  if (layer_ >= 0 && split >= 1) document_->requestSpectrum(layer_, head_, split);
}

void MainWindow::onOptionsChanged() {
  const ess::EssOptions& o = document_->options();
  spectrum_->setTolerance(o.tolerance_, viewdata::reference(o.normalization_));
  layers_->clear();
  position_->clear();
  for (int l = 0; l < document_->layerCount(); ++l) updateTreeTotals(l);
  requestCurrent();
  if (tabs_->currentIndex() == 2 && positionAll_->isChecked()) document_->requestAllCurves();
  if (layer_ >= 0 && split_->split() >= 1) document_->requestSpectrum(layer_, head_, split_->split());
  if (tabs_->currentIndex() == 1) showLayerComparison();
}

void MainWindow::showLayerComparison() {
  if (tabs_->currentIndex() != 1) tabs_->setCurrentIndex(1);  // re-enters through currentChanged
  if (!document_->isOpen()) return;
  refreshLayerView();
  document_->requestAllCurves();
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
    case Qt::Key_Left: split_->step(-step); return true;
    case Qt::Key_Right: split_->step(step); return true;
    case Qt::Key_Home: split_->setSplit(split_->minimum()); return true;
    case Qt::Key_End: split_->setSplit(split_->maximum()); return true;
    default: return false;
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
  if (mime->hasUrls() && !mime->urls().isEmpty() && mime->urls().first().isLocalFile())
    event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  const QList<QUrl> urls = event->mimeData()->urls();
  if (urls.isEmpty() || !urls.first().isLocalFile()) return;
  event->acceptProposedAction();
  const QString path = urls.first().toLocalFile();
  // A text file dropped on an open model becomes its input; anything else is opened.
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

bool MainWindow::exportView(PlotView* view, const QString& path, const figure::ExportOptions& options,
                            QString* error) {
  return figure::save(view, path, options, error);
}

QString MainWindow::suggestedExportName(PlotView* view, const QString& suffix) const {
  QString base = document_->isOpen() ? QFileInfo(document_->path()).completeBaseName() : QStringLiteral("ess");
  if (view == position_ && positionAll_->isChecked())
    return base + QStringLiteral("_position_all_layers.") + suffix;
  if (view != layers_ && layer_ >= 0) {
    if (total_) base += QStringLiteral("_layer%1_total").arg(layer_);
    else if (aggregate_) base += QStringLiteral("_layer%1_heads%2-%3").arg(layer_).arg(first_).arg(last_);
    else base += QStringLiteral("_layer%1_head%2").arg(layer_).arg(head_);
  }
  if (view == spectrum_) base += QStringLiteral("_s%1").arg(split_->split());
  const QString name = view == position_ ? QStringLiteral("position") : view->figureName();
  return base + QLatin1Char('_') + name + QLatin1Char('.') + suffix;
}

void MainWindow::exportDialog() {
  const QList<PlotView*> all = views();
  PlotView* preferred = exportPreselection();
  ExportDialog dialog(exportViewNames(), std::max<int>(0, all.indexOf(preferred)), preferred->size(), this);
  if (dialog.exec() != QDialog::Accepted) return;
  PlotView* view = all.value(dialog.viewIndex(), heatmap_);
  const QString suffix = dialog.suffix();
  QString path = QFileDialog::getSaveFileName(this, tr("Export View"), suggestedExportName(view, suffix),
                                              suffix.toUpper() + QStringLiteral(" (*.") + suffix + QLatin1Char(')'));
  if (path.isEmpty()) return;
  if (QFileInfo(path).suffix().isEmpty()) path += QLatin1Char('.') + suffix;
  QString error;
  if (exportView(view, path, dialog.options(), &error))
    statusBar()->showMessage(tr("Exported %1").arg(path), 5000);
  else
    showError(tr("Export failed"), error);
}
