#include "export_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFontComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPixmap>
#include <QSettings>
#include <QSpinBox>
#include <algorithm>
#include <cmath>

namespace {
constexpr int kPreviewSide = 320;  // pixels, the longer side of the preview
}

ExportDialog::ExportDialog(const QList<PlotView*>& views, const QStringList& names, int current, QWidget* parent)
    : QDialog(parent), views_(views) {
  const PlotView* v = views.value(current);
  build(names, current, v ? v->size() : QSize(600, 400));
}

ExportDialog::ExportDialog(const QStringList& views, int current, QSize size, QWidget* parent) : QDialog(parent) {
  build(views, current, size);
}

void ExportDialog::build(const QStringList& names, int current, QSize size) {
  setWindowTitle(tr("Export View"));
  auto* columns = new QHBoxLayout(this);
  auto* form = new QFormLayout;
  columns->addLayout(form);
  view_ = new QComboBox(this);
  view_->addItems(names);
  view_->setCurrentIndex(current);
  format_ = new QComboBox(this);
  format_->addItem(tr("PNG image (raster)"), int(figure::Format::Png));
  format_->addItem(tr("PDF (vector)"), int(figure::Format::Pdf));
  format_->addItem(tr("SVG (vector)"), int(figure::Format::Svg));
  format_->addItem(tr("CSV (the numbers behind the view)"), int(figure::Format::Csv));
  width_ = new QSpinBox(this);
  width_->setRange(16, figure::kMaxPixels);
  width_->setValue(size.width());
  width_->setSuffix(QStringLiteral(" px"));
  height_ = new QSpinBox(this);
  height_->setRange(16, figure::kMaxPixels);
  height_->setValue(size.height());
  height_->setSuffix(QStringLiteral(" px"));
  tight_ = new QCheckBox(tr("the figure's own height (a heatmap: square)"), this);
  tight_->setChecked(!views_.isEmpty());
  tight_->setEnabled(!views_.isEmpty());
  dpi_ = new QSpinBox(this);
  dpi_->setRange(int(figure::kMinDpi), int(figure::kMaxDpi));
  dpi_->setValue(96);
  dpi_->setSuffix(QStringLiteral(" dpi"));
  style_ = new QComboBox(this);
  style_->addItem(tr("screen (the window's look)"), QStringLiteral("screen"));
  style_->addItem(tr("paper (7.5 pt text, thin lines, no title)"), QStringLiteral("paper"));
  font_ = new QFontComboBox(this);
  font_->setCurrentFont(font());
  fontSize_ = new QDoubleSpinBox(this);
  fontSize_->setRange(0, 48);
  fontSize_->setDecimals(1);
  fontSize_->setSingleStep(0.5);
  fontSize_->setSuffix(QStringLiteral(" pt"));
  fontSize_->setSpecialValueText(tr("the style's"));
  hint_ = new QLabel(this);
  hint_->setWordWrap(true);
  form->addRow(tr("View"), view_);
  form->addRow(tr("Format"), format_);
  form->addRow(tr("Width"), width_);
  form->addRow(tr("Height"), height_);
  form->addRow(QString(), tight_);
  form->addRow(tr("Resolution"), dpi_);
  form->addRow(tr("Style"), style_);
  form->addRow(tr("Font"), font_);
  form->addRow(tr("Font size"), fontSize_);
  form->addRow(hint_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  form->addRow(buttons);
  previewLabel_ = new QLabel(this);
  previewLabel_->setMinimumSize(kPreviewSide, kPreviewSide);
  previewLabel_->setAlignment(Qt::AlignCenter);
  previewLabel_->setVisible(!views_.isEmpty());
  columns->addWidget(previewLabel_);

  // What was accepted last time (QSettings "export/..."): the view (by name), format, size,
  // resolution, style and font.
  updating_ = true;
  QSettings settings;
  const int savedView = names.indexOf(settings.value(QStringLiteral("export/view")).toString());
  if (savedView >= 0 && settings.contains(QStringLiteral("export/view"))) view_->setCurrentIndex(savedView);
  const int savedFormat = format_->findData(settings.value(QStringLiteral("export/format"), -1).toInt());
  if (savedFormat >= 0) format_->setCurrentIndex(savedFormat);
  dpi_->setValue(settings.value(QStringLiteral("export/dpi"), 96).toInt());
  if (settings.contains(QStringLiteral("export/width")))
    width_->setValue(settings.value(QStringLiteral("export/width")).toInt());
  if (settings.contains(QStringLiteral("export/height")))
    height_->setValue(settings.value(QStringLiteral("export/height")).toInt());
  if (!views_.isEmpty()) tight_->setChecked(settings.value(QStringLiteral("export/tight"), true).toBool());
  const int savedStyle = style_->findData(settings.value(QStringLiteral("export/style"), QStringLiteral("screen")));
  if (savedStyle >= 0) style_->setCurrentIndex(savedStyle);
  if (settings.contains(QStringLiteral("export/fontFamily")))
    font_->setCurrentFont(QFont(settings.value(QStringLiteral("export/fontFamily")).toString()));
  fontSize_->setValue(settings.value(QStringLiteral("export/fontSize"), 0.0).toDouble());
  updating_ = false;

  connect(buttons, &QDialogButtonBox::accepted, this, [this] {
    QSettings s;
    s.setValue(QStringLiteral("export/view"), view_->currentText());
    s.setValue(QStringLiteral("export/format"), int(format()));
    s.setValue(QStringLiteral("export/dpi"), dpi_->value());
    s.setValue(QStringLiteral("export/width"), width_->value());
    s.setValue(QStringLiteral("export/height"), height_->value());
    s.setValue(QStringLiteral("export/tight"), tight_->isChecked());
    s.setValue(QStringLiteral("export/style"), style_->currentData());
    s.setValue(QStringLiteral("export/fontFamily"), font_->currentFont().family());
    s.setValue(QStringLiteral("export/fontSize"), fontSize_->value());
  });
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  const auto changed = [this] { updateEnabled(); };
  connect(view_, qOverload<int>(&QComboBox::currentIndexChanged), this, changed);
  connect(format_, qOverload<int>(&QComboBox::currentIndexChanged), this, changed);
  connect(style_, qOverload<int>(&QComboBox::currentIndexChanged), this, changed);
  connect(width_, qOverload<int>(&QSpinBox::valueChanged), this, changed);
  connect(height_, qOverload<int>(&QSpinBox::valueChanged), this, changed);
  connect(dpi_, qOverload<int>(&QSpinBox::valueChanged), this, changed);
  connect(fontSize_, qOverload<double>(&QDoubleSpinBox::valueChanged), this, changed);
  connect(font_, &QFontComboBox::currentFontChanged, this, changed);
  connect(tight_, &QCheckBox::toggled, this, changed);
  updateEnabled();
}

PlotView* ExportDialog::currentView() const { return views_.value(view_->currentIndex()); }

FigureStyle ExportDialog::figureStyle() const {
  FigureStyle s;
  FigureStyle::presetFromName(style_->currentData().toString(), &s.preset);
  // Paper figures leave the title to the caption (as `ess render --style paper`).
  s.title = s.preset == FigureStyle::Preset::Paper ? FigureStyle::Title::None : FigureStyle::Title::Auto;
  s.fontFamily = font_->currentFont().family();
  s.fontSize = fontSize_->value() >= 4 ? fontSize_->value() : 0;
  return s;
}

void ExportDialog::updateEnabled() {
  if (updating_) return;
  updating_ = true;
  const figure::Format f = format();
  const bool figureFormat = f != figure::Format::Csv;
  width_->setEnabled(figureFormat);
  height_->setEnabled(figureFormat && !tight_->isChecked());
  tight_->setEnabled(figureFormat && !views_.isEmpty());
  dpi_->setEnabled(f == figure::Format::Png);
  style_->setEnabled(figureFormat);
  font_->setEnabled(figureFormat);
  fontSize_->setEnabled(figureFormat);
  // Units that match the format: pixels for PNG, points for PDF and SVG.
  const QString unit = f == figure::Format::Png ? QStringLiteral(" px") : QStringLiteral(" pt");
  width_->setSuffix(unit);
  height_->setSuffix(unit);
  // The figure's own height for the width, in the chosen style (the view gets its own back).
  PlotView* view = currentView();
  if (view && figureFormat && tight_->isChecked()) {
    const FigureStyle old = view->figureStyle();
    view->setFigureStyle(figureStyle());
    const QSize s = figure::resolvedSize(view, f, {width_->value(), 0, double(dpi_->value())});
    view->setFigureStyle(old);
    height_->setValue(std::clamp(s.height(), height_->minimum(), height_->maximum()));
  }
  const double perInch = f == figure::Format::Png ? dpi_->value() : 72.0;
  const QString inches = tr("%1 x %2 in (%3 x %4 cm)")
                             .arg(width_->value() / perInch, 0, 'f', 2)
                             .arg(height_->value() / perInch, 0, 'f', 2)
                             .arg(width_->value() / perInch * 2.54, 0, 'f', 1)
                             .arg(height_->value() / perInch * 2.54, 0, 'f', 1);
  if (f == figure::Format::Png)
    hint_->setText(tr("The image has exactly width x height pixels, %1; text of s pt is s x %2 / 72 "
                      "pixels high.")
                       .arg(inches)
                       .arg(dpi_->value()));
  else if (f == figure::Format::Csv)
    hint_->setText(tr("Numbers in full precision, one header line."));
  else
    hint_->setText(tr("Vector output; width and height are in points (1/72 in), %1.").arg(inches));
  updating_ = false;
  updatePreview();
}

void ExportDialog::updatePreview() {
  PlotView* view = currentView();
  if (!view || format() == figure::Format::Csv) {
    preview_ = QImage();
    previewLabel_->setText(views_.isEmpty() ? QString() : tr("(no preview for CSV)"));
    return;
  }
  // The export's own rendering at the chosen physical size, scaled down to the preview: the
  // same layout, fewer pixels (a lower dpi).
  const figure::ExportOptions o = options();
  const double perInch = format() == figure::Format::Png ? o.dpi : 72.0;
  const double scale = std::min(1.0, kPreviewSide / double(std::max(o.width, o.height)));
  figure::ExportOptions small;
  small.width = std::max(16, int(std::lround(o.width * scale)));
  small.height = std::max(16, int(std::lround(o.height * scale)));
  small.dpi = perInch * scale;
  const FigureStyle old = view->figureStyle();
  view->setFigureStyle(figureStyle());
  preview_ = figure::renderImage(view, small);
  view->setFigureStyle(old);
  view->replot(QCustomPlot::rpQueuedReplot);
  previewLabel_->setPixmap(QPixmap::fromImage(preview_));
}

bool ExportDialog::exportView(PlotView* view, const QString& path, QString* error) const {
  const FigureStyle old = view->figureStyle();
  const bool figureFormat = format() != figure::Format::Csv;
  if (figureFormat) view->setFigureStyle(figureStyle());
  const bool ok = figure::save(view, path, options(), error);
  if (figureFormat) view->setFigureStyle(old);
  view->replot(QCustomPlot::rpQueuedReplot);
  return ok;
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
