// Sessions in the main window: captureSession() reads what the window shows into a
// SessionState (session_file.h); SessionRestore brings a window back to one. Restoring is a
// chain of the Document's asynchronous answers: open the checkpoint (its recurrent layers
// forming the block's or the SSM-only operators, as the session says), then the view and ESS
// options, then the input (its inputChanged), then the selection, the split and the tab, and
// once the Document is idle (every view drawn) the zoom ranges. A problem found on the way (a
// layer the model does not have, an input it refuses) ends the restore with one sentence
// naming the session file and the field; what was applied until then stays, and the window
// stays usable.
#pragma once
#include <QObject>
#include <QString>

#include "session_file.h"

class MainWindow;

/// The state `window` shows now (its document must be open).
SessionState captureSession(const MainWindow& window);

class SessionRestore : public QObject {
  Q_OBJECT
 public:
  /// Restores `state`, read from `sessionPath`, into `window`; start() begins. The object
  /// deletes itself once it has emitted finished() or failed(), or when another file is opened
  /// meanwhile (then it emits neither).
  SessionRestore(MainWindow* window, const SessionState& state, const QString& sessionPath);
  void start();
  /// True while the session's checkpoint `path` is being opened (its open errors are the
  /// session's: failed() names the session file and the field "checkpoint").
  bool isOpening(const QString& path) const;

 signals:
  /// Everything is applied (the zoom too).
  void finished(const QString& sessionPath);
  /// `message`: one sentence naming the session file and the field, or the open's error.
  void failed(const QString& message);

 private:
  void onOpened(const QString& path);
  void applyControls();
  void applySelection();
  void waitUntilIdle();
  void onIdle();
  void fail(const QString& field, const QString& problem);
  void finish();

  MainWindow* window_;
  SessionState state_;
  QString sessionPath_;
  enum class Step { Opening, Input, Selection, Zoom, Done } step_ = Step::Opening;
};
