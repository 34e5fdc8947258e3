// Comparison: Compare A/B in the GUI. "Pin as A" keeps the checkpoint open now as A, in a second
// Document that follows the window's input and ESS options; whatever is opened next in the
// window is B. While A and B have the same layer layout (layers, heads per layer, L for the
// input: viewdata::layoutMismatch) the presenters overlay A on B (ESS curve, Position, Layers)
// and the heatmap can show T_B - T_A; otherwise the comparison is refused with a message naming
// both. It computes nothing itself: A's curves and operators come from A's Document.
#pragma once
#include <QHash>
#include <QObject>
#include <QString>

class Document;

class Comparison : public QObject {
  Q_OBJECT
 public:
  /// `current` is the window's Document (B once A is pinned).
  explicit Comparison(Document* current, QObject* parent = nullptr);
  ~Comparison() override;

  bool isPinned() const { return pinned_ != nullptr; }
  /// A is open at B's input and the layouts agree: the views overlay A and B.
  bool isActive() const { return active_; }
  /// Why A and B are not compared now (a layout mismatch naming both; empty otherwise).
  QString refusal() const { return refusal_; }
  /// A's Document (null when nothing is pinned). Only meaningful while isActive().
  Document* pinned() const { return pinned_; }
  /// The path pinned as A (also while it is still being opened); empty when nothing is pinned.
  QString pinnedPath() const { return pinnedPath_; }
  /// Short names for legends and titles: the checkpoint's folder or file name ("step-20").
  /// When A and B are the same file, "A" and "B" follow the name.
  QString nameA() const;
  QString nameB() const;
  /// The checkpoint's short name for `path` (its folder or file name).
  static QString shortName(const QString& path);
  /// A's and B's training steps for the `step` column of CSV exports: the open run's step of a
  /// checkpoint of it (setRunSteps), else the step in a `checkpoint-<N>` / `step-<N>` name
  /// (ess/run.h); -1 when unknown.
  qint64 stepA() const;
  qint64 stepB() const;
  qint64 stepOf(const QString& path) const;
  /// The open run's checkpoints: path -> step (File > Open Run; empty: none).
  void setRunSteps(const QHash<QString, qint64>& steps);

  /// Whether the Head tab's heatmap shows T_B - T_A (while isActive()) instead of T_B.
  bool showsDifference() const { return difference_; }

 public slots:
  /// Keeps the window's current checkpoint as A (its input and options); replaces an earlier A.
  void pin();
  /// Pins the checkpoint at `path` as A (a restored session's): opened in the background, then
  /// at the window's input and options; a file that does not open is errorOccurred() and unpins.
  void pinPath(const QString& path);
  /// Ends the comparison: the views show B alone again.
  void unpin();
  void setShowDifference(bool show);
  /// A's operator and curves of `layer`, every layer's curves (no-ops unless isActive()).
  void requestOperator(int layer);
  void requestCurve(int layer);
  void requestAllCurves();

 signals:
  /// Pinned, unpinned, activated or refused: the presenters redraw.
  void changed();
  /// The layouts differ (the message names both).
  void refused(const QString& message);
  void operatorReady(int layer);
  void curveReady(int layer);
  void layerSummaryReady();
  void errorOccurred(const QString& message);

 private:
  /// A follows B's input and options, then the layouts are checked.
  void sync();
  void evaluate();
  void setActive(bool active, const QString& refusal);

  Document* current_;
  Document* pinned_ = nullptr;
  bool pinnedOpen_ = false;
  bool active_ = false;
  bool difference_ = false;
  QString refusal_;
  QString refusedFor_;               // B's path the last refusal was reported for (reported once)
  QHash<QString, qint64> runSteps_;  // by clean absolute path
  QString pinnedPath_;
};
