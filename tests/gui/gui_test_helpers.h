// Steps the GUI suites share: typing into the main window's Text box.
#pragma once
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QString>

#include "controls_panel.h"
#include "document.h"
#include "main_window.h"

/// Types `text` into the Text box, clicks Apply text and waits up to `timeoutMs` for the
/// document's new input. False when no new input came (an error, or the time ran out).
inline bool applyTextThroughBox(MainWindow& w, const QString& text, int timeoutMs) {
  QSignalSpy changed(w.document(), &Document::inputChanged);
  w.controls()->textEdit()->setPlainText(text);
  w.controls()->applyTextButton()->click();
  return changed.wait(timeoutMs);
}
