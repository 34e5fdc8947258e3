#include "export_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QSettings>
#include <QSpinBox>

ExportDialog::ExportDialog(const QStringList& views, int current, QSize size, QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Export View"));
  auto* form = new QFormLayout(this);
  view_ = new QComboBox(this);
  view_->addItems(views);
  view_->setCurrentIndex(current);
  format_ = new QComboBox(this);
  format_->addItem(tr("PNG image (raster)"), int(figure::Format::Png));
  format_->addItem(tr("PDF (vector)"), int(figure::Format::Pdf));
  format_->addItem(tr("SVG (vector)"), int(figure::Format::Svg));
  format_->addItem(tr("CSV (the numbers behind the view)"), int(figure::Format::Csv));
  width_ = new QSpinBox(this);
  width_->setRange(64, 20000);
  width_->setValue(size.width());
  width_->setSuffix(QStringLiteral(" px"));
  height_ = new QSpinBox(this);
  height_->setRange(64, 20000);
  height_->setValue(size.height());
  height_->setSuffix(QStringLiteral(" px"));
  dpi_ = new QSpinBox(this);
  dpi_->setRange(48, 1200);
  dpi_->setValue(96);
  dpi_->setSuffix(QStringLiteral(" dpi"));
  hint_ = new QLabel(this);
  hint_->setWordWrap(true);
  form->addRow(tr("View"), view_);
  form->addRow(tr("Format"), format_);
  form->addRow(tr("Width"), width_);
  form->addRow(tr("Height"), height_);
  form->addRow(tr("Resolution"), dpi_);
  form->addRow(hint_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  form->addRow(buttons);
  // The format and resolution chosen last time (QSettings "export/format", "export/dpi").
  QSettings settings;
  const int savedFormat = format_->findData(settings.value(QStringLiteral("export/format"), -1).toInt());
  if (savedFormat >= 0) format_->setCurrentIndex(savedFormat);
  dpi_->setValue(settings.value(QStringLiteral("export/dpi"), 96).toInt());
  connect(buttons, &QDialogButtonBox::accepted, this, [this] {
    QSettings s;
    s.setValue(QStringLiteral("export/format"), int(format()));
    s.setValue(QStringLiteral("export/dpi"), dpi_->value());
  });
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(format_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] { updateEnabled(); });
  connect(dpi_, qOverload<int>(&QSpinBox::valueChanged), this, [this] { updateEnabled(); });
  updateEnabled();
}

void ExportDialog::updateEnabled() {
  const figure::Format f = format();
  width_->setEnabled(f != figure::Format::Csv);
  height_->setEnabled(f != figure::Format::Csv);
  dpi_->setEnabled(f == figure::Format::Png);
  // Units that match the format: pixels for PNG, points for PDF and SVG.
  const QString unit = f == figure::Format::Png ? QStringLiteral(" px") : QStringLiteral(" pt");
  width_->setSuffix(unit);
  height_->setSuffix(unit);
  if (f == figure::Format::Png)
    hint_->setText(tr("The image has exactly width x height pixels; %1 dpi draws text and lines "
                      "%2x as large as on screen (%3 x %4 in).")
                       .arg(dpi_->value())
                       .arg(dpi_->value() / 96.0, 0, 'g', 3)
                       .arg(width_->value() / double(dpi_->value()), 0, 'f', 2)
                       .arg(height_->value() / double(dpi_->value()), 0, 'f', 2));
  else if (f == figure::Format::Csv)
    hint_->setText(tr("Numbers in full precision, one header line."));
  else
    hint_->setText(tr("Vector output; width and height are in points."));
}

int ExportDialog::viewIndex() const { return view_->currentIndex(); }

figure::Format ExportDialog::format() const { return static_cast<figure::Format>(format_->currentData().toInt()); }

figure::ExportOptions ExportDialog::options() const {
  figure::ExportOptions o;
  o.width = width_->value();
  o.height = height_->value();
  o.dpi = dpi_->value();
  return o;
}

QString ExportDialog::suffix() const {
  switch (format()) {
    case figure::Format::Png:
      return QStringLiteral("png");
    case figure::Format::Pdf:
      return QStringLiteral("pdf");
    case figure::Format::Svg:
      return QStringLiteral("svg");
    case figure::Format::Csv:
      return QStringLiteral("csv");
  }
  return QStringLiteral("png");
}
