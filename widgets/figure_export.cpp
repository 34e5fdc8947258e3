#include "figure_export.h"

#include <QFileInfo>
#include <QImage>
#include <QPageLayout>
#include <QPdfWriter>
#include <QSaveFile>
#include <QSvgGenerator>
#include <QTemporaryFile>
#include <cmath>

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

// Vector output: a temporary file beside `path`, then copied through QSaveFile (the usual
// permissions, `path` replaced atomically).
bool commitCopy(const QString& tmpPath, const QString& path, QString* error) {
  QFile rendered(tmpPath);
  if (!rendered.open(QIODevice::ReadOnly)) return fail(error, path, rendered.errorString());
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly)) return fail(error, path, file.errorString());
  if (file.write(rendered.readAll()) < 0) {
    file.cancelWriting();
    return fail(error, path, file.errorString());
  }
  if (!file.commit()) return fail(error, path, file.errorString());
  return true;
}

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
  const double height = tight > 0 ? tight / layoutDpi() * perInch
                                  : std::max(view->aspect() * o.width, std::min(double(o.width), 1.5 * perInch));
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
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly)) return fail(error, path, file.errorString());
  if (!image.save(&file, "PNG")) {
    file.cancelWriting();
    return fail(error, path, QStringLiteral("could not encode PNG"));
  }
  if (!file.commit()) return fail(error, path, file.errorString());
  return true;
}

bool savePdf(QCustomPlot* plot, const QString& path, const ExportOptions& options, QString* error) {
  const QSize points = outputSize(plot, options);
  const QFileInfo info(path);
  QTemporaryFile tmp(info.absolutePath() + QStringLiteral("/.ess-export-XXXXXX.pdf"));
  if (!tmp.open()) return fail(error, path, tmp.errorString());
  const QString tmpPath = tmp.fileName();
  tmp.close();
  {
    // One page of exactly width x height points, at the layout dpi (fonts drawn at their
    // measured size; Qt embeds the glyphs used as font subsets).
    QPdfWriter writer(tmpPath);
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
  return commitCopy(tmpPath, path, error);
}

bool saveSvg(QCustomPlot* plot, const QString& path, const ExportOptions& options, QString* error) {
  const QSize points = outputSize(plot, options);
  const QSize layout(toLayout(points.width(), 72.0), toLayout(points.height(), 72.0));
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly)) return fail(error, path, file.errorString());
  QSvgGenerator generator;
  generator.setOutputDevice(&file);
  // The file states its size in mm (width x height points); user units are layout units.
  generator.setSize(layout);
  generator.setViewBox(QRect(QPoint(0, 0), layout));
  generator.setResolution(int(std::lround(layoutDpi())));
  generator.setTitle(QFileInfo(path).completeBaseName());
  generator.setDescription(QStringLiteral("ESS Explorer figure"));
  {
    QCPPainter painter;
    if (!painter.begin(&generator)) {
      file.cancelWriting();
      return fail(error, path, QStringLiteral("could not start SVG painter"));
    }
    painter.setMode(QCPPainter::pmVectorized);
    painter.setMode(QCPPainter::pmNoCaching);
    painter.setMode(QCPPainter::pmNonCosmetic);
    painter.setRenderHint(QPainter::Antialiasing);
    plot->toPainter(&painter, layout.width(), layout.height());
    painter.end();
  }
  if (!file.commit()) return fail(error, path, file.errorString());
  return true;
}

bool saveCsv(const PlotView* view, const QString& path, QString* error) {
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly | QIODevice::Text)) return fail(error, path, file.errorString());
  file.write(view->toCsv().toUtf8());
  if (!file.commit()) return fail(error, path, file.errorString());
  return true;
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
