// MainWindow: the ESS Explorer window. Thin wiring between one Document (the opened checkpoint
// or operator file and its computations) and the views (heatmap, ESS curve, spectrum, layer
// comparison), which all observe one SplitPoint. Menus (open, recent, export), drag and drop,
// the layer/head tree, the split slider and arrow keys, the status bar with progress and cancel.
#pragma once
#include <QElapsedTimer>
#include <QMainWindow>
#include <functional>

#include "figure_export.h"

class ControlsPanel;
class ElidedLabel;
class Document;
class EssCurveView;
class HeatmapView;
class LayerComparisonView;
class PlotView;
class PositionEssView;
class QCheckBox;
class QLineEdit;
class QLabel;
class QMenu;
class QProgressBar;
class QSlider;
class QSpinBox;
class QTabWidget;
class QToolButton;
class QTreeWidget;
class QTreeWidgetItem;
class SpectrumView;
class SplitPoint;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  /// Shows an error to the user. The default is a modal QMessageBox; tests install a
  /// non-blocking presenter.
  using ErrorPresenter = std::function<void(const QString& title, const QString& message)>;
  void setErrorPresenter(ErrorPresenter presenter) { presentError_ = std::move(presenter); }

  Document* document() const { return document_; }
  SplitPoint* splitPoint() const { return split_; }
  HeatmapView* heatmapView() const { return heatmap_; }
  EssCurveView* curveView() const { return curve_; }
  SpectrumView* spectrumView() const { return spectrum_; }
  LayerComparisonView* layerView() const { return layers_; }
  /// The Position tab: ESS over position of the selection, or of every layer's total.
  PositionEssView* positionView() const { return position_; }
  QCheckBox* positionAllLayersBox() const { return positionAll_; }
  QLineEdit* positionMarksEdit() const { return positionMarks_; }
  QTreeWidget* layerTree() const { return tree_; }
  QSlider* splitSlider() const { return slider_; }
  QSpinBox* splitSpinBox() const { return splitSpin_; }
  ControlsPanel* controls() const { return controls_; }
  QTabWidget* tabs() const { return tabs_; }
  int currentLayer() const { return layer_; }
  /// The head shown (for a channel group or the layer total: its first head, whose spectrum
  /// the spectrum view shows).
  int currentHead() const { return head_; }
  /// True when a channel group or the layer total is selected (summed curves, mean |T|).
  bool isAggregateSelected() const { return aggregate_; }
  bool isLayerTotalSelected() const { return total_; }
  /// The heads of the selection, first..last inclusive.
  int selectionFirst() const { return first_; }
  int selectionLast() const { return last_; }
  /// The views in the order the export dialog lists them.
  QList<PlotView*> views() const;
  /// The export dialog's names of views(), in the same order ("Heatmap of T", ...,
  /// "ESS over position").
  QStringList exportViewNames() const;
  /// The view the export dialog preselects: the current tab's (Layers: the layer comparison,
  /// Position: the position view, Head: the heatmap, or the curve or spectrum last clicked).
  PlotView* exportPreselection() const;
  /// The file name the export suggests for `view` as `suffix` ("png", "csv", ...):
  /// "<model>_layer0_head1_heatmap.png", "<model>_layer0_total_position.csv",
  /// "<model>_position_all_layers.csv", "<model>_layer_comparison.csv", ...
  QString suggestedExportName(PlotView* view, const QString& suffix) const;
  /// The status bar's file and input label (one line, elided; the full text in its tooltip).
  QLabel* fileLabel() const;

  /// Writes `view` to `path` (format from the suffix); errors go to *error.
  bool exportView(PlotView* view, const QString& path, const figure::ExportOptions& options = {},
                  QString* error = nullptr);

  QSize sizeHint() const override { return {1440, 900}; }

 public slots:
  /// Opens a checkpoint (file or directory) or an operator file in the background.
  void openPath(const QString& path);
  /// Shows `head` of `layer` in the heatmap, the ESS curve and the spectrum.
  void selectHead(int layer, int head);
  /// Shows heads first..last (a channel group) of `layer` summed, each times the layer's value
  /// channels: the summed ESS curves with the summed TSS and the utilization, the mean |T| over
  /// the group as the heatmap, the spectrum of its first head.
  void selectGroup(int layer, int first, int last);
  /// Shows the layer total: every head of `layer` summed, as selectGroup().
  void selectLayerTotal(int layer);
  /// Switches to the layer comparison and computes what is missing.
  void showLayerComparison();

 protected:
  void keyPressEvent(QKeyEvent* event) override;
  /// Saves the window's geometry and dock layout for the next start.
  void closeEvent(QCloseEvent* event) override;
  bool eventFilter(QObject* watched, QEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void buildMenus();
  void buildCentral();
  void buildSidePanel();
  void buildStatusBar();
  void connectDocument();

  void onOpened(const QString& path);
  void onOperatorReady(int layer);
  void onCurveReady(int layer, bool complete);
  void onGroupOperatorReady(int layer, int first, int last);
  /// Tiled layers (long operators): the overview or a detail tile of the head shown arrived.
  void onTileReady(int layer, int head, bool overview);
  void showTiledLayer();
  void onMemoryBudgetChanged(qint64 bytes);
  void select(int layer, int first, int last, bool aggregate, bool total);
  QTreeWidgetItem* treeItemFor(int layer, int first, int last, bool aggregate, bool total) const;
  void updateTreeTotals(int layer);
  /// "head 1", "channels 8-15", "layer total (64 channels)".
  QString selectionLabel() const;
  /// Grid column of the layer comparison that holds the selection (-1: none).
  int gridColumn() const;
  void onSpectrumReady(int layer, int head, int split, const QVector<double>& sigma);
  void onSplitChanged(int split);
  void onOptionsChanged();
  void requestCurrent();
  void refreshCurveView();
  void refreshLayerView();
  void refreshPositionView();
  void populateTree();
  void showError(const QString& title, const QString& message);
  bool handleSplitKey(QKeyEvent* event);

  void openFileDialog();
  void openFolderDialog();
  void exportDialog();
  void addRecent(const QString& path);
  void rebuildRecentMenu();
  QString headTitle() const;
  /// Shows the opened file's description and the input in the status bar.
  void updateFileLabel();
  QString hint() const;

  Document* document_ = nullptr;
  SplitPoint* split_ = nullptr;
  HeatmapView* heatmap_ = nullptr;
  EssCurveView* curve_ = nullptr;
  SpectrumView* spectrum_ = nullptr;
  LayerComparisonView* layers_ = nullptr;
  PositionEssView* position_ = nullptr;
  QCheckBox* positionAll_ = nullptr;
  QLineEdit* positionMarks_ = nullptr;
  QTreeWidget* tree_ = nullptr;
  ControlsPanel* controls_ = nullptr;
  QTabWidget* tabs_ = nullptr;
  QSlider* slider_ = nullptr;
  QSpinBox* splitSpin_ = nullptr;
  QLabel* layerStatus_ = nullptr;
  ElidedLabel* fileLabel_ = nullptr;
  QLabel* hoverLabel_ = nullptr;
  QLabel* busyLabel_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QToolButton* cancelButton_ = nullptr;
  QMenu* recentMenu_ = nullptr;
  PlotView* lastView_ = nullptr;
  ErrorPresenter presentError_;
  int layer_ = -1;
  int head_ = -1;
  int first_ = -1;
  int last_ = -1;
  bool aggregate_ = false;
  bool total_ = false;
  bool populating_ = false;
  const void* shownOverview_ = nullptr;
  QString lastError_;  // the last error presented and when (repeats are not re-shown)
  QElapsedTimer lastErrorTime_;  // the overview tile the heatmap shows (tiled layers)
};
