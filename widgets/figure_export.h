// Figure export for the QCustomPlot-based views: PNG at a chosen size and DPI (raster), PDF
// and SVG (vector, for papers), and the numbers behind a view as CSV. Each function writes to
// a temporary file and renames it, so nothing half-written is left on failure.
#pragma once
#include <QString>

class QCustomPlot;
class PlotView;

namespace figure {

enum class Format { Png, Pdf, Svg, Csv };

/// Output size: for PNG, width x height are the image's pixels and `dpi` scales text and lines
/// (96 = screen size; 300 makes a print figure of width/300 inches). For PDF and SVG, width x
/// height are points / user units. 0 = the widget's current size.
struct ExportOptions {
  int width = 0;
  int height = 0;
  double dpi = 96.0;
};

/// Format from a file suffix (png, pdf, svg, csv); false when unknown.
bool formatFromPath(const QString& path, Format* format);

/// Each returns false and sets *error (when given) to "<path>: <what is wrong>" on failure.
bool savePng(QCustomPlot* plot, const QString& path, const ExportOptions& options = {}, QString* error = nullptr);
bool savePdf(QCustomPlot* plot, const QString& path, const ExportOptions& options = {}, QString* error = nullptr);
bool saveSvg(QCustomPlot* plot, const QString& path, const ExportOptions& options = {}, QString* error = nullptr);
bool saveCsv(const PlotView* view, const QString& path, QString* error = nullptr);

/// Dispatches on the suffix of `path`.
bool save(PlotView* view, const QString& path, const ExportOptions& options = {}, QString* error = nullptr);

}  // namespace figure
