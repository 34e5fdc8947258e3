// TabPresenter: what one tab of the main window needs beside its page of views. A presenter
// observes the Document, the Selection and the SplitPoint, asks the Document for data and puts
// it in its views with their titles; the window only adds its page as a tab and wires it to the
// menus, the export dialog and the status bar. A new tab is a presenter subclass (with its
// views) and one addTab() line in MainWindow.
#pragma once
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

class Comparison;
class Document;
class PlotView;
class QWidget;
class Selection;
class SplitPoint;

class TabPresenter : public QObject {
  Q_OBJECT
 public:
  TabPresenter(Document* document, Selection* selection, SplitPoint* split, QObject* parent = nullptr);

  /// The tab's page, made by the presenter (the tab widget takes it over).
  QWidget* page() const { return page_; }
  /// The tab's label ("Head"); also what ess-explorer --tab matches.
  virtual QString title() const = 0;
  /// The tab's plots, in the order the export dialog lists them.
  virtual QList<PlotView*> views() const = 0;
  /// The export dialog's names of views(), in the same order ("Heatmap of T", ...).
  virtual QStringList exportNames() const = 0;
  /// The view the export dialog preselects while this tab is current; `lastClicked` is the plot
  /// the user pressed last (any tab's).
  virtual PlotView* exportPreselection(PlotView* lastClicked) const;
  /// The file name the export suggests for `view` (one of views()) as `suffix` ("png"), from
  /// `base`, the opened file's base name: "<base>_layer0_head1_<figure>.<suffix>" by default.
  virtual QString exportName(PlotView* view, const QString& base, const QString& suffix) const;

  bool isCurrent() const { return current_; }
  /// The window tells each presenter whether its tab is the current one.
  void setCurrent(bool current) { current_ = current; }
  /// Its tab just became the current one: show what is missing.
  virtual void activated() {}
  /// A new document is open, before anything is selected in it: drop what the views show.
  virtual void documentOpened() = 0;
  /// Compare A/B: the presenter overlays A (comparison->pinned()) while it is active and
  /// redraws on its changed() (comparisonChanged()) and on A's results (pinned...Ready()).
  void setComparison(Comparison* comparison);

 signals:
  /// The presenter wants its own tab shown (e.g. a button asked for its computation).
  void activationRequested();

 protected:
  void setPage(QWidget* page) { page_ = page; }
  /// `base` followed by the selection: "_layer0_head1", "_layer0_heads8-15", "_layer0_total"
  /// (nothing when nothing is selected).
  QString selectionStem(const QString& base) const;
  /// Pinned, unpinned, activated or refused: redraw with or without A.
  virtual void comparisonChanged() {}
  /// A's operator or curve of `layer`, or every layer's curves, arrived (while comparing).
  virtual void pinnedOperatorReady(int) {}
  virtual void pinnedCurveReady(int) {}
  virtual void pinnedLayersReady() {}
  /// A is pinned and its layout agrees with the document's: draw A beside B.
  bool comparing() const;

  Document* document_;
  Selection* selection_;
  SplitPoint* split_;
  Comparison* comparison_ = nullptr;

 private:
  QWidget* page_ = nullptr;
  bool current_ = false;
};
