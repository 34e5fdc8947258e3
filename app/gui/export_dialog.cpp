#include "export_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFontComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPixmap>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <algorithm>
#include <cmath>

namespace {
constexpr int kPreviewSide = 320;  // pixels, the longer side of the preview
constexpr int kMinSide = 16;       // output units (px or pt), each side

QString unitName(figure::Unit u) {
  switch (u) {
    case figure::Unit::Px:
      return QStringLiteral("px");
    case figure::Unit::Pt:
      return QStringLiteral("pt");
    case figure::Unit::In:
      return QStringLiteral("in");
    case figure::Unit::Cm:
      return QStringLiteral("cm");
    case figure::Unit::Mm:
      return QStringLiteral("mm");
  }
  return QStringLiteral("px");
}

figure::Unit unitOf(const QString& name) {
  for (figure::Unit u : {figure::Unit::Px, figure::Unit::Pt, figure::Unit::In, figure::Unit::Cm, figure::Unit::Mm})
    if (unitName(u) == name) return u;
  return figure::Unit::Px;
}

// `inches` in `unit` at `dpi`.
double fromInches(double inches, figure::Unit unit, double dpi) {
  switch (unit) {
    case figure::Unit::Px:
      return inches * dpi;
    case figure::Unit::Pt:
      return inches * 72.0;
    case figure::Unit::In:
      return inches;
    case figure::Unit::Cm:
      return inches * 2.54;
    case figure::Unit::Mm:
      return inches * 25.4;
  }
  return inches;
}
}  // namespace

// Applies the dialog's style (and, with `colours`, a heatmap's map and range) to a view for the
// time of a preview, a size or an export; gives the view its own back (re-colouring only what
// differed, since that rebuilds the map).
class ExportDialog::Styled {
 public:
  Styled(const ExportDialog& dialog, PlotView* view, bool colours) : view_(view) {
    if (!view_) return;
    style_ = view_->figureStyle();
    view_->setFigureStyle(dialog.figureStyle());
    heat_ = colours ? qobject_cast<HeatmapView*>(view_) : nullptr;
    if (!heat_) return;
    automatic_ = heat_->automaticColorMap();
    map_ = heat_->chosenColorMap();
    range_ = heat_->colorRange();
    bool automatic = automatic_;
    colormaps::Map map = map_;
    HeatmapView::ColorRange range = range_;
    if (!dialog.heatmapColors(heat_, &automatic, &map, &range)) return;
    if (automatic != automatic_ || (!automatic && map != map_)) {
      heat_->setColorMap(automatic, map);
      mapChanged_ = true;
    }
    if (range.text() != range_.text()) {
      heat_->setColorRange(range);
      rangeChanged_ = true;
    }
  }
  ~Styled() {
    if (!view_) return;
    if (mapChanged_) heat_->setColorMap(automatic_, map_);
    if (rangeChanged_) heat_->setColorRange(range_);
    view_->setFigureStyle(style_);
    view_->replot(QCustomPlot::rpQueuedReplot);
  }
  Styled(const Styled&) = delete;
  Styled& operator=(const Styled&) = delete;

 private:
  PlotView* view_;
  HeatmapView* heat_ = nullptr;
  FigureStyle style_;
  bool automatic_ = true, mapChanged_ = false, rangeChanged_ = false;
  colormaps::Map map_ = colormaps::Map::Viridis;
  HeatmapView::ColorRange range_;
};

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
  width_ = new QDoubleSpinBox(this);
  height_ = new QDoubleSpinBox(this);
  for (QDoubleSpinBox* b : {width_, height_}) {
    b->setDecimals(0);
    b->setRange(kMinSide, figure::kMaxPixels);
  }
  width_->setValue(size.width());
  height_->setValue(size.height());
  unit_ = new QComboBox(this);
  unit_->setToolTip(tr("The unit of the width and height; changing it keeps the figure's size"));
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
  colorMap_ = new QComboBox(this);
  colorMap_->addItem(tr("the view's"), QStringLiteral("view"));
  colorMap_->addItem(tr("auto (diverging if signed)"), QStringLiteral("auto"));
  for (auto m : {colormaps::Map::Viridis, colormaps::Map::Magma, colormaps::Map::Cividis, colormaps::Map::Diverging})
    colorMap_->addItem(colormaps::name(m), colormaps::name(m));
  colorMap_->setToolTip(tr("Heatmap exports: the colours, the view's unless chosen here"));
  colorRange_ = new QLineEdit(this);
  colorRange_->setToolTip(tr("Heatmap exports: auto, symmetric, MIN:MAX or pNN (percentile clip); empty: the view's"));
  hint_ = new QLabel(this);
  hint_->setWordWrap(true);
  form->addRow(tr("View"), view_);
  form->addRow(tr("Format"), format_);
  auto* widthRow = new QHBoxLayout;
  widthRow->addWidget(width_, 1);
  widthRow->addWidget(unit_);
  form->addRow(tr("Width"), widthRow);
  form->addRow(tr("Height"), height_);
  form->addRow(QString(), tight_);
  form->addRow(tr("Resolution"), dpi_);
  form->addRow(tr("Style"), style_);
  form->addRow(tr("Font"), font_);
  form->addRow(tr("Font size"), fontSize_);
  form->addRow(tr("Colormap"), colorMap_);
  form->addRow(tr("Colour range"), colorRange_);
  form->addRow(hint_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  ok_ = buttons->button(QDialogButtonBox::Ok);
  form->addRow(buttons);
  previewLabel_ = new QLabel(this);
  previewLabel_->setMinimumSize(kPreviewSide, kPreviewSide);
  previewLabel_->setAlignment(Qt::AlignCenter);
  previewLabel_->setVisible(!views_.isEmpty());
  columns->addWidget(previewLabel_);

  // What was accepted last time (QSettings "export/..."): the view (by name), format, size and
  // its unit, resolution, style, font and heatmap colours.
  updating_ = true;
  QSettings settings;
  const int savedView = names.indexOf(settings.value(QStringLiteral("export/view")).toString());
  if (savedView >= 0 && settings.contains(QStringLiteral("export/view"))) view_->setCurrentIndex(savedView);
  const int savedFormat = format_->findData(settings.value(QStringLiteral("export/format"), -1).toInt());
  if (savedFormat >= 0) format_->setCurrentIndex(savedFormat);
  dpi_->setValue(settings.value(QStringLiteral("export/dpi"), 96).toInt());
  updateUnits();  // px (PNG) or pt (vector), the size as given
  const int savedUnit = unit_->findData(settings.value(QStringLiteral("export/unit")).toString());
  if (savedUnit >= 0) {
    unit_->setCurrentIndex(savedUnit);
    convertSize(shownUnit_, unitOf(unit_->currentData().toString()));  // the saved size follows, in it
  }
  if (settings.contains(QStringLiteral("export/width")))
    width_->setValue(settings.value(QStringLiteral("export/width")).toDouble());
  if (settings.contains(QStringLiteral("export/height")))
    height_->setValue(settings.value(QStringLiteral("export/height")).toDouble());
  const int savedMap = colorMap_->findData(settings.value(QStringLiteral("export/colorMap")).toString());
  if (savedMap >= 0) colorMap_->setCurrentIndex(savedMap);
  colorRange_->setText(settings.value(QStringLiteral("export/colorRange")).toString());
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
    s.setValue(QStringLiteral("export/unit"), unit_->currentData());
    s.setValue(QStringLiteral("export/width"), width_->value());
    s.setValue(QStringLiteral("export/height"), height_->value());
    s.setValue(QStringLiteral("export/tight"), tight_->isChecked());
    s.setValue(QStringLiteral("export/style"), style_->currentData());
    s.setValue(QStringLiteral("export/fontFamily"), font_->currentFont().family());
    s.setValue(QStringLiteral("export/fontSize"), fontSize_->value());
    s.setValue(QStringLiteral("export/colorMap"), colorMap_->currentData());
    s.setValue(QStringLiteral("export/colorRange"), colorRange_->text().trimmed());
  });
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  const auto changed = [this] { updateEnabled(); };
  connect(view_, qOverload<int>(&QComboBox::currentIndexChanged), this, changed);
  connect(format_, qOverload<int>(&QComboBox::currentIndexChanged), this, changed);
  connect(style_, qOverload<int>(&QComboBox::currentIndexChanged), this, changed);
  connect(width_, qOverload<double>(&QDoubleSpinBox::valueChanged), this, changed);
  connect(height_, qOverload<double>(&QDoubleSpinBox::valueChanged), this, changed);
  connect(unit_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
    if (updating_) return;
    convertSize(shownUnit_, unitOf(unit_->currentData().toString()));
    updateEnabled();
  });
  connect(colorMap_, qOverload<int>(&QComboBox::currentIndexChanged), this, changed);
  connect(colorRange_, &QLineEdit::textChanged, this, changed);
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

figure::Unit ExportDialog::unit() const { return shownUnit_; }

void ExportDialog::updateUnits() {
  const bool png = format() == figure::Format::Png;
  if (format() == figure::Format::Csv) return;  // no size: keep what is shown
  const figure::Unit pixel = png ? figure::Unit::Px : figure::Unit::Pt;
  figure::Unit target = shownUnit_;
  if (target == figure::Unit::Px || target == figure::Unit::Pt) target = pixel;
  const bool wasUpdating = updating_;
  updating_ = true;
  unit_->clear();
  for (figure::Unit u : {pixel, figure::Unit::In, figure::Unit::Cm}) unit_->addItem(unitName(u), unitName(u));
  unit_->setCurrentIndex(unit_->findData(unitName(target)));
  updating_ = wasUpdating;
  convertSize(shownUnit_, target);
}

void ExportDialog::convertSize(figure::Unit from, figure::Unit to) {
  const double dpi = dpi_->value();
  const bool png = format() == figure::Format::Png;
  const double w = fromInches(figure::Length{width_->value(), from}.inches(dpi), to, dpi);
  const double h = fromInches(figure::Length{height_->value(), from}.inches(dpi), to, dpi);
  // The range is that of the output (kMinSide .. kMaxPixels pixels or points) in `to`.
  const figure::Unit output = png ? figure::Unit::Px : figure::Unit::Pt;
  const double low = fromInches(figure::Length{double(kMinSide), output}.inches(dpi), to, dpi);
  const double high = fromInches(figure::Length{double(figure::kMaxPixels), output}.inches(dpi), to, dpi);
  const bool wasUpdating = updating_;
  updating_ = true;
  const int decimals = to == figure::Unit::Px || to == figure::Unit::Pt ? 0 : 2;
  for (QDoubleSpinBox* b : {width_, height_}) {
    b->setDecimals(decimals);
    b->setSingleStep(decimals ? 0.05 : 1);
    b->setRange(low, high);
    b->setSuffix(QLatin1Char(' ') + unitName(to));
  }
  width_->setValue(w);
  height_->setValue(h);
  shownUnit_ = to;
  updating_ = wasUpdating;
}

bool ExportDialog::heatmapColors(const HeatmapView* view, bool* automatic, colormaps::Map* map,
                                 HeatmapView::ColorRange* range, QString* error) const {
  const QString chosen = colorMap_->currentData().toString();
  if (chosen == QLatin1String("view")) {
    *automatic = view->automaticColorMap();
    *map = view->chosenColorMap();
  } else {
    *automatic = !colormaps::fromName(chosen, map);
  }
  const QString text = colorRange_->text().trimmed();
  if (text.isEmpty()) {
    *range = view->colorRange();
    return true;
  }
  return HeatmapView::ColorRange::parse(text, range, error);
}

void ExportDialog::updateEnabled() {
  if (updating_) return;
  updating_ = true;
  const figure::Format f = format();
  const bool figureFormat = f != figure::Format::Csv;
  updateUnits();  // also the in/cm range of a PNG, which follows the dpi (pixel values stay)
  width_->setEnabled(figureFormat);
  unit_->setEnabled(figureFormat);
  height_->setEnabled(figureFormat && !tight_->isChecked());
  tight_->setEnabled(figureFormat && !views_.isEmpty());
  dpi_->setEnabled(f == figure::Format::Png);
  style_->setEnabled(figureFormat);
  font_->setEnabled(figureFormat);
  fontSize_->setEnabled(figureFormat);
  // Colours apply to heatmap exports only.
  PlotView* view = currentView();
  auto* heat = qobject_cast<HeatmapView*>(view);
  colorMap_->setEnabled(figureFormat && heat);
  colorRange_->setEnabled(figureFormat && heat);
  colorRange_->setPlaceholderText(heat ? tr("the view's: %1").arg(heat->colorRange().text()) : QString());
  // The figure's own height for the width, in the chosen style, shown in the unit.
  const figure::ExportOptions o = options();
  if (view && figureFormat && tight_->isChecked()) {
    const double perInch = f == figure::Format::Png ? dpi_->value() : 72.0;
    height_->setValue(fromInches(o.height / perInch, shownUnit_, dpi_->value()));
  }
  const double perInch = f == figure::Format::Png ? dpi_->value() : 72.0;
  const QString inches = tr("%1 x %2 in (%3 x %4 cm)")
                             .arg(o.width / perInch, 0, 'f', 2)
                             .arg(o.height / perInch, 0, 'f', 2)
                             .arg(o.width / perInch * 2.54, 0, 'f', 1)
                             .arg(o.height / perInch * 2.54, 0, 'f', 1);
  QString colourError;
  bool automatic = true;
  colormaps::Map map = colormaps::Map::Viridis;
  HeatmapView::ColorRange range;
  const bool coloursOk = !heat || !figureFormat || heatmapColors(heat, &automatic, &map, &range, &colourError);
  ok_->setEnabled(coloursOk);
  if (!coloursOk)
    hint_->setText(tr("Colour range: %1.").arg(colourError));
  else if (f == figure::Format::Png)
    hint_->setText(tr("The image has exactly %1 x %2 pixels, %3; text of s pt is s x %4 / 72 pixels high.")
                       .arg(o.width)
                       .arg(o.height)
                       .arg(inches)
                       .arg(dpi_->value()));
  else if (f == figure::Format::Csv)
    hint_->setText(tr("Numbers in full precision, one header line."));
  else
    hint_->setText(tr("Vector output, %1 x %2 points (1/72 in), %3.").arg(o.width).arg(o.height).arg(inches));
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
  {
    Styled styled(*this, view, true);
    preview_ = figure::renderImage(view, small);
  }
  previewLabel_->setPixmap(QPixmap::fromImage(preview_));
}

bool ExportDialog::exportView(PlotView* view, const QString& path, QString* error) const {
  if (format() == figure::Format::Csv) return figure::save(view, path, options(), error);
  if (auto* heat = qobject_cast<HeatmapView*>(view)) {
    bool automatic = true;
    colormaps::Map map = colormaps::Map::Viridis;
    HeatmapView::ColorRange range;
    QString why;
    if (!heatmapColors(heat, &automatic, &map, &range, &why)) {
      if (error) *error = tr("%1: colour range: %2").arg(path, why);
      return false;
    }
  }
  const figure::ExportOptions o = options();  // resolved before the view changes style
  Styled styled(*this, view, true);
  return figure::save(view, path, o, error);
}

int ExportDialog::viewIndex() const { return view_->currentIndex(); }

figure::Format ExportDialog::format() const { return static_cast<figure::Format>(format_->currentData().toInt()); }

figure::ExportOptions ExportDialog::options() const {
  figure::ExportOptions o;
  o.dpi = dpi_->value();
  const figure::Format f = format();
  o.width = int(std::lround(figure::Length{width_->value(), shownUnit_}.toOutputUnits(f, o.dpi)));
  o.height = int(std::lround(figure::Length{height_->value(), shownUnit_}.toOutputUnits(f, o.dpi)));
  PlotView* view = currentView();
  if (view && f != figure::Format::Csv && tight_->isChecked()) {
    // The figure's own height for the width in the chosen style, exact (not the rounded
    // number shown in in or cm).
    Styled styled(*this, view, false);
    o.height = figure::resolvedSize(view, f, {o.width, 0, o.dpi}).height();
  }
  o.height = std::clamp(o.height, kMinSide, figure::kMaxPixels);
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
