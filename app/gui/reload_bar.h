// ReloadBar: the non-modal bar above the tabs that says "FILE changed on disk. Reload?" when a
// file of the open document was truncated, rewritten, replaced or deleted (Document::
// sourceChanged), with Reload (open it again at the same layer, head and split) and Keep (go on
// with what was read at open). The window keeps running while it shows.
#pragma once
#include <QFrame>

class QLabel;
class QPushButton;

class ReloadBar : public QFrame {
  Q_OBJECT
 public:
  explicit ReloadBar(QWidget* parent = nullptr);

  /// Shows the bar for `file`, with the core's sentence `message` as its tooltip.
  void showChange(const QString& file, const QString& message);
  QString text() const;
  QPushButton* reloadButton() const { return reload_; }
  QPushButton* keepButton() const { return keep_; }

 signals:
  void reloadRequested();
  void keepRequested();

 private:
  QLabel* label_ = nullptr;
  QPushButton* reload_ = nullptr;
  QPushButton* keep_ = nullptr;
};
