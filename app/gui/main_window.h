// MainWindow: the ESS Explorer window. It composes, never computes: one Document (the opened
// checkpoint or operator file and its computations), the Selection and the SplitPoint that every
// view observes, the side panel (layer tree, controls), and one tab per presenter (Head, Layers,
// Position), each of which fills its own views. Menus (open, recent, export), drag and drop,
// the arrow keys that move the split, the status bar with progress and cancel.
#pragma once
#include <QElapsedTimer>
#include <QMainWindow>
#include <QPointer>
#include <functional>

#include "figure_export.h"

class Comparison;
class ControlsPanel;
class ElidedLabel;
class Document;
class EssCurveView;
class HeadPresenter;
class HeatmapView;
class LayerComparisonView;
class LayerTree;
class LayersPresenter;
class PlotView;
class PositionEssView;
class PositionPresenter;
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
class ReloadBar;
class Selection;
class SessionRestore;
class SpectrumView;
class SplitPoint;
class TabPresenter;
class TrainingTab;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  /// The tabs, in the order they are shown (their indices in tabs()).
  enum class Tab { Head, Layers, Position };

  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  /// Shows an error to the user. The default is a modal QMessageBox; tests install a
  /// non-blocking presenter.
  using ErrorPresenter = std::function<void(const QString& title, const QString& message)>;
  void setErrorPresenter(ErrorPresenter presenter) { presentError_ = std::move(presenter); }
  /// What an error dialog shows of `message`: its first line, at most 300 characters (the
  /// whole message goes under the dialog's collapsed, scrollable details).
  static QString errorSummary(const QString& message);

  Document* document() const { return document_; }
  /// Compare A/B (Compare > Pin as A, Unpin, Show T_B - T_A).
  Comparison* comparison() const { return comparison_; }
  SplitPoint* splitPoint() const { return split_; }
  Selection* selection() const { return selection_; }
  HeatmapView* heatmapView() const;
  EssCurveView* curveView() const;
  SpectrumView* spectrumView() const;
  LayerComparisonView* layerView() const;
  /// The Position tab: ESS over position of the selection, or of every layer's total.
  PositionEssView* positionView() const;
  QCheckBox* positionAllLayersBox() const;
  QLineEdit* positionMarksEdit() const;
  QTreeWidget* layerTree() const;
  QSlider* splitSlider() const;
  /// The Head tab's checkpoint slider (visible once a run is open).
  QSlider* checkpointSlider() const;
  QSpinBox* splitSpinBox() const;
  ControlsPanel* controls() const { return controls_; }
  QTabWidget* tabs() const { return tabs_; }
  /// The Training tab; null until a run is opened.
  TrainingTab* trainingTab() const { return training_; }
  void showTab(Tab tab);
  int currentLayer() const;
  /// The head shown (for a channel group or the layer total: its first head, whose spectrum
  /// the spectrum view shows).
  int currentHead() const;
  /// True when a channel group or the layer total is selected (summed curves, mean |T|).
  bool isAggregateSelected() const;
  bool isLayerTotalSelected() const;
  /// The heads of the selection, first..last inclusive.
  int selectionFirst() const;
  int selectionLast() const;
  /// The views in the order the export dialog lists them (every tab's, in tab order; the
  /// Training tab's figure last, once a run was opened).
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
  /// The bar above the tabs that offers to reload a file changed on disk (hidden otherwise).
  ReloadBar* reloadBar() const { return reloadBar_; }

  /// Writes `view` to `path` (format from the suffix); errors go to *error.
  bool exportView(PlotView* view, const QString& path, const figure::ExportOptions& options = {},
                  QString* error = nullptr);

  QSize sizeHint() const override { return {1440, 900}; }

  /// Help > About: the version, the paper's citation (Parnichkun et al., ICML 2025,
  /// arXiv:2504.19561), the libraries and their licences (rich text).
  static QString aboutText();
  /// Help > Keyboard Shortcuts: one "keys<TAB>action" line per menu shortcut and mouse gesture.
  QString shortcutsText() const;

  /// File > Save Session: writes what the window shows (session_file.h) to `path`; false with
  /// *error set when nothing is open or the file cannot be written.
  bool saveSession(const QString& path, QString* error = nullptr);

 public slots:
  /// Opens a checkpoint (file or directory) or an operator file in the background; a session
  /// file (sessionfile::looksLikeSession) is restored with openSession().
  void openPath(const QString& path);
  /// File > Open Session: reads the session file at `path`, opens its checkpoint and restores
  /// the rest (session_restore.h): sessionRestored() at the end. A bad file, a missing
  /// checkpoint or a field the model contradicts is one error naming the file and the field;
  /// the window stays as it was or keeps what was applied.
  void openSession(const QString& path);
  /// File > Open Run: the run at `path` (ess/run.h) in the Training tab, added on first use;
  /// clicking a step there opens that checkpoint. A folder that is not a run is an error.
  void openRun(const QString& path);
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
  /// Opens the document's file again (its files changed on disk) at the same selection (layer,
  /// head or channel group or layer total), split and input, as far as the new file has them.
  void reloadFromDisk();

 signals:
  /// Every item of the session file at `path` is applied (its zoom ranges too).
  void sessionRestored(const QString& path);

 protected:
  void keyPressEvent(QKeyEvent* event) override;
  /// Saves the window's geometry and dock layout for the next start.
  void closeEvent(QCloseEvent* event) override;
  bool eventFilter(QObject* watched, QEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  /// Keeps `presenter` as the next tab (in Tab order); returns it.
  template <typename P>
  P* addPresenter(P* presenter) {
    presenters_.append(presenter);
    return presenter;
  }
  void buildCentral();
  void buildSidePanel();
  void buildStatusBar();
  void buildMenus();
  /// The Compare menu and the comparison's wiring to the presenters and the error dialog.
  void buildCompare();
  /// View > SSM-only Operators, checked while the document forms the SSM-only operators.
  void addOperatorScopeAction(QMenu* view);
  void connectDocument();
  /// Puts the reload bar above `central` and connects it (files changed on disk).
  QWidget* withReloadBar(QWidget* central);
  void restoreAfterReload(const QString& path);
  /// Opens checkpoint `path` of the run at the selection, split and input shown now.
  void openCheckpointKeepingView(const QString& path);
  /// A run (ess/run.h): a folder holding `checkpoint-<step>/` or `step-<N>/` folders, or a `.txt`
  /// list of checkpoints that all exist (dropping one opens it in the Training tab).
  static bool isRun(const QString& path);

  void onOpened(const QString& path);
  void onMemoryBudgetChanged(qint64 bytes);
  void showError(const QString& title, const QString& message);
  bool handleSplitKey(QKeyEvent* event);

  void openFileDialog();
  void openFolderDialog();
  void openRunDialog();
  void saveSessionDialog();
  void openSessionDialog();
  void exportDialog();
  void addRecent(const QString& path);
  void rebuildRecentMenu();
  /// Shows the opened file's description and the input in the status bar.
  void updateFileLabel();
  QString hint() const;

  Document* document_ = nullptr;
  Comparison* comparison_ = nullptr;
  SplitPoint* split_ = nullptr;
  Selection* selection_ = nullptr;
  QList<TabPresenter*> presenters_;  // one per tab, in Tab order
  HeadPresenter* head_ = nullptr;
  LayersPresenter* layers_ = nullptr;
  PositionPresenter* position_ = nullptr;
  LayerTree* tree_ = nullptr;
  ControlsPanel* controls_ = nullptr;
  QTabWidget* tabs_ = nullptr;
  ElidedLabel* fileLabel_ = nullptr;
  QLabel* hoverLabel_ = nullptr;
  QLabel* busyLabel_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QToolButton* cancelButton_ = nullptr;
  QMenu* recentMenu_ = nullptr;
  PlotView* lastView_ = nullptr;  // the plot pressed last (the export's preselection)
  ErrorPresenter presentError_;
  TrainingTab* training_ = nullptr;  // created by the first openRun()
  QString lastError_;                // the last error presented and when (repeats are not re-shown)
  QElapsedTimer lastErrorTime_;
  QPointer<SessionRestore> restore_;  // the session being restored, if any
  ReloadBar* reloadBar_ = nullptr;
  /// Where the window was when Reload was pressed (kind: 0 head, 1 group, 2 layer total).
  struct ReloadPoint {
    QString path;
    int kind = 0, layer = 0, first = 0, last = 0, split = 0;
  };
  ReloadPoint reloadPoint_;
  bool reloading_ = false;
};
