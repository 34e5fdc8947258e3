// What the GUI suites share: a shown main window that collects its error dialogs, and typing
// into its Text box, and the resident memory the robustness suites bound.
#pragma once
#include <unistd.h>

#include <QFile>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QString>
#include <QStringList>

#include "controls_panel.h"
#include "document.h"
#include "main_window.h"

/// Resident set size of this process in MiB (/proc/self/statm, second field, in pages).
/// The document's operator of `layer`, formed now (waits up to timeoutMs for operatorReady).
inline const ess::OperatorData* operatorOf(Document* d, int layer, int timeoutMs) {
  if (!d->operatorData(layer)) {
    QSignalSpy ready(d, &Document::operatorReady);
    d->requestOperator(layer);
    if (!d->operatorData(layer) && !ready.wait(timeoutMs)) return nullptr;
  }
  return d->operatorData(layer);
}

inline double residentMiB() {
  QFile f(QStringLiteral("/proc/self/statm"));
  if (!f.open(QIODevice::ReadOnly)) return 0;
  const QList<QByteArray> fields = f.readAll().split(' ');
  return fields.size() > 1 ? fields[1].toDouble() * double(::sysconf(_SC_PAGESIZE)) / double(1 << 20) : 0;
}

/// Types `text` into the Text box, clicks Apply text and waits up to `timeoutMs` for the
/// document's new input. False when no new input came (an error, or the time ran out).
inline bool applyTextThroughBox(MainWindow& w, const QString& text, int timeoutMs) {
  QSignalSpy changed(w.document(), &Document::inputChanged);
  w.controls()->textEdit()->setPlainText(text);
  w.controls()->applyTextButton()->click();
  return changed.wait(timeoutMs);
}

/// A shown main window (1400 x 900) whose error dialogs are collected in `errors` instead of
/// shown; open() and setInput() wait up to `timeoutMs` for the document's answer.
struct TestWindow {
  MainWindow w;
  QStringList errors;
  int timeoutMs;
  explicit TestWindow(int timeout) : timeoutMs(timeout) {
    w.setErrorPresenter([this](const QString&, const QString& message) { errors << message; });
    w.resize(1400, 900);
    w.show();
  }
  /// Opens `path`; false when it did not open in time (or failed: see `errors`).
  bool open(const QString& path) {
    QSignalSpy opened(w.document(), &Document::opened);
    w.openPath(path);
    return opened.wait(timeoutMs);
  }
  /// Sets the document's input; false when no new input came in time.
  bool setInput(const QString& spec) {
    QSignalSpy changed(w.document(), &Document::inputChanged);
    w.document()->setInput(spec);
    return changed.wait(timeoutMs);
  }
};
