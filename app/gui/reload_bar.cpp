#include "reload_bar.h"

#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>

ReloadBar::ReloadBar(QWidget* parent) : QFrame(parent) {
  setObjectName(QStringLiteral("reloadBar"));
  setFrameShape(QFrame::StyledPanel);
  setStyleSheet(QStringLiteral("#reloadBar { background: #fff4ce; }"));
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(8, 4, 8, 4);
  label_ = new QLabel(this);
  label_->setTextFormat(Qt::PlainText);
  reload_ = new QPushButton(tr("&Reload"), this);
  reload_->setToolTip(tr("Open the file again, at the same layer, head and split"));
  keep_ = new QPushButton(tr("&Keep"), this);
  keep_->setToolTip(tr("Go on with what was read when the file was opened"));
  layout->addWidget(label_, 1);
  layout->addWidget(reload_);
  layout->addWidget(keep_);
  connect(reload_, &QPushButton::clicked, this, [this] {
    hide();
    emit reloadRequested();
  });
  connect(keep_, &QPushButton::clicked, this, [this] {
    hide();
    emit keepRequested();
  });
  hide();
}

void ReloadBar::showChange(const QString& file, const QString& message) {
  label_->setText(tr("%1 changed on disk. Reload?").arg(QFileInfo(file).fileName()));
  label_->setToolTip(message);
  show();
}

QString ReloadBar::text() const { return label_->text(); }
