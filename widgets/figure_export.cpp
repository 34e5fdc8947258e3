#include "figure_export.h"

#include <QFileInfo>
#include <QImage>
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

}  // namespace

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

bool savePng(QCustomPlot* plot, const QString& path, const ExportOptions& options, QString* error) {
  const QSize px = outputSize(plot, options);
  const double scale = options.dpi > 0 ? options.dpi / 96.0 : 1.0;
  // Lay the plot out at px / scale logical pixels and paint it scaled: exactly px pixels.
  const int lw = std::max(16, int(std::ceil(px.width() / scale)));
  const int lh = std::max(16, int(std::ceil(px.height() / scale)));
  QImage image(px, QImage::Format_ARGB32_Premultiplied);
  image.fill(Qt::white);
  image.setDotsPerMeterX(int(std::lround(options.dpi / 0.0254)));
  image.setDotsPerMeterY(int(std::lround(options.dpi / 0.0254)));
  {
    QCPPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setMode(QCPPainter::pmNoCaching);
    painter.scale(scale, scale);
    plot->toPainter(&painter, lw, lh);
  }
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
  const QSize size = outputSize(plot, options);
  const QFileInfo info(path);
  QTemporaryFile tmp(info.absolutePath() + QStringLiteral("/.ess-export-XXXXXX.pdf"));
  if (!tmp.open()) return fail(error, path, tmp.errorString());
  const QString tmpPath = tmp.fileName();
  tmp.close();
  if (!plot->savePdf(tmpPath, size.width(), size.height(), QCP::epNoCosmetic, QStringLiteral("ESS Explorer")))
    return fail(error, path, QStringLiteral("could not write PDF"));
  // QCustomPlot writes to a file name only; copy through QSaveFile, which gives the file the
  // usual permissions and replaces `path` atomically.
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

bool saveSvg(QCustomPlot* plot, const QString& path, const ExportOptions& options, QString* error) {
  const QSize size = outputSize(plot, options);
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly)) return fail(error, path, file.errorString());
  QSvgGenerator generator;
  generator.setOutputDevice(&file);
  generator.setSize(size);
  generator.setViewBox(QRect(QPoint(0, 0), size));
  generator.setResolution(96);
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
    painter.setRenderHint(QPainter::Antialiasing);
    plot->toPainter(&painter, size.width(), size.height());
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

bool save(PlotView* view, const QString& path, const ExportOptions& options, QString* error) {
  Format format;
  if (!formatFromPath(path, &format))
    return fail(error, path, QStringLiteral("unknown figure format (use .png, .pdf, .svg or .csv)"));
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
