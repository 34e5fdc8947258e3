#include "figure_export.h"

#include <QBuffer>
#include <QFileInfo>
#include <QImage>
#include <QPageLayout>
#include <QPaintEngine>
#include <QPainterPath>
#include <QPdfWriter>
#include <QSaveFile>
#include <QSvgGenerator>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "plot_view.h"

namespace figure {
namespace {

bool fail(QString* error, const QString& path, const QString& what) {
  if (error) *error = QStringLiteral("%1: %2").arg(path, what);
  return false;
}

QSize outputSize(QCustomPlot* plot, const ExportOptions& o) {
  const int w = o.width > 0 ? o.width : plot->width();
  const int h = o.height > 0 ? o.height : plot->height();
  return {std::max(w, 16), std::max(h, 16)};
}

// Layout units (1/layoutDpi in) for `units` output units, `perInch` of them an inch.
int toLayout(double units, double perInch) { return std::max(16, int(std::lround(units / perInch * layoutDpi()))); }

// Every figure is encoded in memory first (no encoder ever sees a failing write: libpng would
// print its own "Write Error" line), then written through QSaveFile (the usual permissions,
// `path` replaced atomically). Unbuffered: QSaveFile::commit() misses a write that fails when
// its buffer is flushed, and a full disk would leave a cut-short figure behind. The message
// gives the reason in errno's words ("cannot write: No space left on device").
bool commitBytes(const QByteArray& bytes, const QString& path, QString* error) {
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly | QIODevice::Unbuffered)) return fail(error, path, file.errorString());
  errno = 0;
  if (file.write(bytes) != bytes.size()) {
    // QSaveFile says "Unknown error" for a failed write(2): errno has the reason.
    const int e = errno;
    const QString why = e ? QString::fromLocal8Bit(std::strerror(e)) : file.errorString();
    file.cancelWriting();
    return fail(error, path, QStringLiteral("cannot write: ") + why);
  }
  if (!file.commit()) return fail(error, path, QStringLiteral("cannot write: ") + file.errorString());
  return true;
}

// SVG text as outlines: a paint device whose engine forwards every drawing to a painter on the
// QSvgGenerator, except text, which QPaintEngine's default drawTextItem turns into glyph paths
// (filled with the pen's brush). The SVG then holds no <text> and no font names, so every
// renderer draws the same glyphs (QSvgGenerator would write <text font-family=...>, which a
// renderer without that font substitutes). Qt 6.4's SVG engine also ignores clipping, so the
// engine clips itself: paths and strokes are intersected with the clip (strokes as filled
// outlines), images cropped to it (axis-aligned clips, as QCustomPlot sets them).
class OutlineEngine : public QPaintEngine {
 public:
  explicit OutlineEngine(QPaintDevice* target) : QPaintEngine(QPaintEngine::AllFeatures), target_(target) {}
  bool begin(QPaintDevice*) override { return painter_.begin(target_); }
  bool end() override { return painter_.end(); }
  Type type() const override { return QPaintEngine::User; }
  void updateState(const QPaintEngineState& state) override {
    const DirtyFlags dirty = state.state();
    if (dirty & DirtyTransform) {
      transform_ = state.transform();
      painter_.setTransform(transform_);
    }
    if (dirty & DirtyPen) painter_.setPen(state.pen());
    if (dirty & DirtyBrush) painter_.setBrush(state.brush());
    if (dirty & DirtyBrushOrigin) painter_.setBrushOrigin(state.brushOrigin());
    if (dirty & DirtyBackground) painter_.setBackground(state.backgroundBrush());
    if (dirty & DirtyBackgroundMode) painter_.setBackgroundMode(state.backgroundMode());
    if (dirty & DirtyHints) {
      painter_.setRenderHints(painter_.renderHints(), false);
      painter_.setRenderHints(state.renderHints(), true);
    }
    if (dirty & DirtyCompositionMode) painter_.setCompositionMode(state.compositionMode());
    if (dirty & DirtyOpacity) painter_.setOpacity(state.opacity());
    // Clips arrive in the coordinates of the current transform; kept in device coordinates.
    if (dirty & DirtyClipPath) setClip(transform_.map(state.clipPath()), state.clipOperation());
    if (dirty & DirtyClipRegion) {
      QPainterPath region;
      region.addRegion(state.clipRegion());
      setClip(transform_.map(region), state.clipOperation());
    }
    if (dirty & DirtyClipEnabled) clipOn_ = state.isClipEnabled();
  }
  void drawPath(const QPainterPath& path) override {
    const QPen pen = painter_.pen();
    const double penWidth = pen.style() == Qt::NoPen ? 0 : std::max(1.0, pen.widthF()) * scale();
    const QRectF bounds = transform_.map(path).boundingRect().adjusted(-penWidth, -penWidth, penWidth, penWidth);
    if (!clipOn_ || clip_.contains(bounds)) {
      painter_.drawPath(path);
      return;
    }
    if (!clip_.intersects(bounds)) return;
    const QPainterPath clip = transform_.inverted().map(clip_);
    if (painter_.brush().style() != Qt::NoBrush) painter_.fillPath(path.intersected(clip), painter_.brush());
    if (pen.style() != Qt::NoPen) {
      QPainterPathStroker stroker(pen);
      // Cosmetic pens are device units wide; the stroker works in logical ones.
      if (pen.isCosmetic()) stroker.setWidth(std::max(1.0, pen.widthF()) / std::max(1e-9, scale()));
      painter_.fillPath(stroker.createStroke(path).intersected(clip), pen.brush());
    }
  }
  void drawPolygon(const QPointF* points, int count, PolygonDrawMode mode) override {
    QPainterPath path;
    if (count <= 0) return;
    path.moveTo(points[0]);
    for (int i = 1; i < count; ++i) path.lineTo(points[i]);
    if (mode == PolylineMode) {
      const QBrush brush = painter_.brush();
      painter_.setBrush(Qt::NoBrush);
      drawPath(path);
      painter_.setBrush(brush);
      return;
    }
    path.closeSubpath();
    path.setFillRule(mode == WindingMode ? Qt::WindingFill : Qt::OddEvenFill);
    drawPath(path);
  }
  void drawRects(const QRectF* rects, int count) override {
    for (int i = 0; i < count; ++i) {
      QPainterPath path;
      path.addRect(rects[i]);
      drawPath(path);
    }
  }
  void drawLines(const QLineF* lines, int count) override {
    const QBrush brush = painter_.brush();
    painter_.setBrush(Qt::NoBrush);
    for (int i = 0; i < count; ++i) {
      QPainterPath path;
      path.moveTo(lines[i].p1());
      path.lineTo(lines[i].p2());
      drawPath(path);
    }
    painter_.setBrush(brush);
  }
  void drawEllipse(const QRectF& rect) override {
    QPainterPath path;
    path.addEllipse(rect);
    drawPath(path);
  }
  void drawPoints(const QPointF* points, int count) override { painter_.drawPoints(points, count); }
  void drawPixmap(const QRectF& r, const QPixmap& pm, const QRectF& sr) override {
    QRectF target = r, source = sr;
    if (cropToClip(&target, &source)) painter_.drawPixmap(target, pm, source);
  }
  void drawImage(const QRectF& r, const QImage& image, const QRectF& sr, Qt::ImageConversionFlags flags) override {
    QRectF target = r, source = sr;
    if (cropToClip(&target, &source)) painter_.drawImage(target, image, source, flags);
  }
  void drawTiledPixmap(const QRectF& r, const QPixmap& pm, const QPointF& s) override {
    painter_.drawTiledPixmap(r, pm, s);
  }

 private:
  void setClip(const QPainterPath& path, Qt::ClipOperation op) {
    if (op == Qt::NoClip) {
      clipOn_ = false;
    } else if (op == Qt::IntersectClip && clipOn_) {
      clip_ = clip_.intersected(path);
    } else {
      clip_ = path;
      clipOn_ = true;
    }
  }
  double scale() const { return std::sqrt(std::abs(transform_.determinant())); }
  // `target` (logical) and `source` (image pixels) cut to the clip's bounding rectangle; false
  // when nothing is left.
  bool cropToClip(QRectF* target, QRectF* source) const {
    if (!clipOn_) return true;
    const QRectF device = transform_.mapRect(*target);
    if (clip_.contains(device)) return true;
    const QRectF kept = device & clip_.boundingRect();
    if (kept.isEmpty() || device.width() <= 0 || device.height() <= 0) return false;
    const double sx = source->width() / device.width(), sy = source->height() / device.height();
    *source = QRectF(source->x() + (kept.x() - device.x()) * sx, source->y() + (kept.y() - device.y()) * sy,
                     kept.width() * sx, kept.height() * sy);
    *target = transform_.inverted().mapRect(kept);
    return true;
  }

  QPaintDevice* target_;
  QPainter painter_;
  QTransform transform_;
  QPainterPath clip_;
  bool clipOn_ = false;
};

class OutlineDevice : public QPaintDevice {
 public:
  explicit OutlineDevice(QPaintDevice* target) : target_(target), engine_(target) {}
  QPaintEngine* paintEngine() const override { return &engine_; }

 protected:
  int metric(PaintDeviceMetric m) const override {
    switch (m) {
      case PdmWidth:
        return target_->width();
      case PdmHeight:
        return target_->height();
      case PdmWidthMM:
        return target_->widthMM();
      case PdmHeightMM:
        return target_->heightMM();
      case PdmNumColors:
        return target_->colorCount();
      case PdmDepth:
        return target_->depth();
      case PdmDpiX:
        return target_->logicalDpiX();
      case PdmDpiY:
        return target_->logicalDpiY();
      case PdmPhysicalDpiX:
        return target_->physicalDpiX();
      case PdmPhysicalDpiY:
        return target_->physicalDpiY();
      case PdmDevicePixelRatio:
        return int(std::lround(target_->devicePixelRatio()));
      case PdmDevicePixelRatioScaled:
        return int(std::lround(target_->devicePixelRatio() * devicePixelRatioFScale()));
    }
    return 0;
  }

 private:
  QPaintDevice* target_;
  mutable OutlineEngine engine_;
};

}  // namespace

double Length::inches(double dpi) const {
  switch (unit) {
    case Unit::Px:
      return value / dpi;
    case Unit::Pt:
      return value / 72.0;
    case Unit::In:
      return value;
    case Unit::Cm:
      return value / 2.54;
    case Unit::Mm:
      return value / 25.4;
  }
  return value / dpi;
}

double Length::toOutputUnits(Format format, double dpi) const {
  if (format == Format::Png) return unit == Unit::Px ? value : inches(dpi) * dpi;
  return unit == Unit::Pt ? value : inches(dpi) * 72.0;
}

bool parseLength(const QString& text, Length* length, QString* error) {
  static const struct {
    const char* suffix;
    Unit unit;
  } kUnits[] = {{"px", Unit::Px}, {"pt", Unit::Pt}, {"in", Unit::In}, {"cm", Unit::Cm}, {"mm", Unit::Mm}};
  QString number = text.trimmed();
  Unit unit = Unit::Px;
  for (const auto& u : kUnits)
    if (number.endsWith(QLatin1String(u.suffix), Qt::CaseInsensitive)) {
      number.chop(2);
      unit = u.unit;
      break;
    }
  bool ok = false;
  const double v = number.trimmed().toDouble(&ok);
  if (!ok || !std::isfinite(v) || v <= 0) {
    if (error)
      *error = QStringLiteral("expected a positive length with a unit (3.25in, 8.3cm, 85mm, 240pt, 900px), got '%1'")
                   .arg(text);
    return false;
  }
  length->value = v;
  length->unit = unit;
  return true;
}

bool formatFromPath(const QString& path, Format* format) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  if (suffix == QLatin1String("png"))
    *format = Format::Png;
  else if (suffix == QLatin1String("pdf"))
    *format = Format::Pdf;
  else if (suffix == QLatin1String("svg"))
    *format = Format::Svg;
  else if (suffix == QLatin1String("csv"))
    *format = Format::Csv;
  else
    return false;
  return true;
}

QSize resolvedSize(PlotView* view, Format format, const ExportOptions& o) {
  if (o.width <= 0 || o.height > 0) return outputSize(view, o);
  const double perInch = format == Format::Png ? (o.dpi > 0 ? o.dpi : 96.0) : 72.0;
  const int layoutWidth = toLayout(o.width, perInch);
  const int tight = view->tightHeight(layoutWidth);
  // No natural aspect: 0.58 x the width, at least 1.5 in (or the width) so that small figures
  // keep room for their text.
  double height = tight > 0 ? tight / layoutDpi() * perInch
                            : std::max(view->aspect() * o.width, std::min(double(o.width), 1.5 * perInch));
  // Never less than the layout needs (rows of panels, legends): nothing pushed off the page.
  if (tight <= 0) height = std::max(height, std::ceil(view->minimumHeight(layoutWidth) / layoutDpi() * perInch));
  return {o.width, std::max(16, int(std::lround(height)))};
}

QImage renderImage(QCustomPlot* plot, const ExportOptions& options) {
  const QSize px = outputSize(plot, options);
  const double dpi = options.dpi > 0 ? options.dpi : 96.0;
  // Laid out at the figure's physical size in layout units, painted scaled to exactly px.
  const int lw = toLayout(px.width(), dpi), lh = toLayout(px.height(), dpi);
  QImage image(px, QImage::Format_ARGB32_Premultiplied);
  if (image.isNull()) return image;
  image.fill(Qt::white);
  // Painted at the layout dpi, so that fonts in points get the size they were measured at.
  const int layoutDpm = int(std::lround(layoutDpi() / 0.0254));
  image.setDotsPerMeterX(layoutDpm);
  image.setDotsPerMeterY(layoutDpm);
  {
    QCPPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setRenderHint(QPainter::TextAntialiasing);
    painter.setMode(QCPPainter::pmNoCaching);
    // Hairlines (width 0) are 1 layout unit wide, as in PDF and SVG, so lines scale with the dpi.
    painter.setMode(QCPPainter::pmNonCosmetic);
    painter.scale(double(px.width()) / lw, double(px.height()) / lh);
    plot->toPainter(&painter, lw, lh);
  }
  image.setDotsPerMeterX(int(std::lround(dpi / 0.0254)));
  image.setDotsPerMeterY(int(std::lround(dpi / 0.0254)));
  return image;
}

bool savePng(QCustomPlot* plot, const QString& path, const ExportOptions& options, QString* error) {
  const QImage image = renderImage(plot, options);
  if (image.isNull()) return fail(error, path, QStringLiteral("could not allocate the image"));
  QByteArray png;
  QBuffer buffer(&png);
  buffer.open(QIODevice::WriteOnly);
  if (!image.save(&buffer, "PNG")) return fail(error, path, QStringLiteral("could not encode PNG"));
  return commitBytes(png, path, error);
}

bool savePdf(QCustomPlot* plot, const QString& path, const ExportOptions& options, QString* error) {
  const QSize points = outputSize(plot, options);
  const QFileInfo info(path);
  QByteArray pdf;
  QBuffer buffer(&pdf);
  buffer.open(QIODevice::WriteOnly);
  {
    // One page of exactly width x height points, at the layout dpi (fonts drawn at their
    // measured size; Qt embeds the glyphs used as font subsets).
    QPdfWriter writer(&buffer);
    writer.setResolution(int(std::lround(layoutDpi())));
    writer.setPageLayout(QPageLayout(QPageSize(QSizeF(points), QPageSize::Point, QString(), QPageSize::ExactMatch),
                                     QPageLayout::Portrait, QMarginsF(0, 0, 0, 0), QPageLayout::Point));
    writer.setCreator(QStringLiteral("ESS Explorer"));
    writer.setTitle(info.completeBaseName());
    QCPPainter painter;
    if (!painter.begin(&writer)) return fail(error, path, QStringLiteral("could not write PDF"));
    painter.setMode(QCPPainter::pmVectorized);
    painter.setMode(QCPPainter::pmNoCaching);
    painter.setMode(QCPPainter::pmNonCosmetic);
    painter.setRenderHint(QPainter::Antialiasing);
    plot->toPainter(&painter, toLayout(points.width(), 72.0), toLayout(points.height(), 72.0));
    painter.end();
  }
  return commitBytes(pdf, path, error);
}

bool saveSvg(QCustomPlot* plot, const QString& path, const ExportOptions& options, QString* error) {
  const QSize points = outputSize(plot, options);
  const QSize layout(toLayout(points.width(), 72.0), toLayout(points.height(), 72.0));
  QByteArray svg;
  QBuffer buffer(&svg);
  buffer.open(QIODevice::WriteOnly);
  QSvgGenerator generator;
  generator.setOutputDevice(&buffer);
  // The file states its size in mm (width x height points); user units are layout units.
  generator.setSize(layout);
  generator.setViewBox(QRect(QPoint(0, 0), layout));
  generator.setResolution(int(std::lround(layoutDpi())));
  generator.setTitle(QFileInfo(path).completeBaseName());
  generator.setDescription(QStringLiteral("ESS Explorer figure"));
  {
    OutlineDevice outlined(&generator);  // text as glyph outlines
    QCPPainter painter;
    if (!painter.begin(&outlined)) return fail(error, path, QStringLiteral("could not start SVG painter"));
    painter.setMode(QCPPainter::pmVectorized);
    painter.setMode(QCPPainter::pmNoCaching);
    painter.setMode(QCPPainter::pmNonCosmetic);
    painter.setRenderHint(QPainter::Antialiasing);
    plot->toPainter(&painter, layout.width(), layout.height());
    painter.end();
  }
  return commitBytes(svg, path, error);
}

bool saveCsv(const PlotView* view, const QString& path, QString* error) {
  return commitBytes(view->toCsv().toUtf8(), path, error);  // "\n" line ends on Linux, as Text mode wrote
}

bool save(PlotView* view, const QString& path, const ExportOptions& given, QString* error) {
  Format format;
  if (!formatFromPath(path, &format))
    return fail(error, path, QStringLiteral("unknown figure format (use .png, .pdf, .svg or .csv)"));
  ExportOptions options = given;
  if (format != Format::Csv) {
    const QSize size = resolvedSize(view, format, given);
    options.width = size.width();
    options.height = size.height();
  }
  switch (format) {
    case Format::Png:
      return savePng(view, path, options, error);
    case Format::Pdf:
      return savePdf(view, path, options, error);
    case Format::Svg:
      return saveSvg(view, path, options, error);
    case Format::Csv:
      return saveCsv(view, path, error);
  }
  return false;
}

}  // namespace figure
