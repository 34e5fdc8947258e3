// Figure export for the QCustomPlot-based views: PNG at a chosen size and DPI (raster), PDF
// and SVG (vector, for papers), and the numbers behind a view as CSV. Each function writes to
// a temporary file and renames it, so nothing half-written is left on failure.
//
// Sizes: a figure is laid out once at its physical size (text in points, lines and paddings
// from the style) and painted at the output's resolution, so text and lines scale by dpi / 72
// from points and nothing is clipped at any size (lines: hairlines are one layout unit, as in
// PDF and SVG). PDF pages are exactly width x height points with the fonts embedded; SVG files
// state their size in millimetres and draw text as glyph outlines (no <text>, no font names),
// so other renderers (librsvg, Inkscape, browsers) draw the same letters.
#pragma once
#include <QString>

#include "plot_view.h"

class QCustomPlot;

namespace figure {

enum class Format { Png, Pdf, Svg, Csv };

/// Output size: for PNG, width x height are the image's pixels and the figure is width / dpi
/// inches wide (text of s pt is s * dpi / 72 pixels high). For PDF and SVG, width x height are
/// points (1/72 in). 0 = the widget's current size; height 0 with a width: the view's tight
/// height (PlotView::tightHeight), else 0.58 x the width.
struct ExportOptions {
  int width = 0;
  int height = 0;
  double dpi = 96.0;
};

/// Sane ranges, checked by the CLI and the export dialog.
constexpr double kMinDpi = 36, kMaxDpi = 2400;
constexpr double kMinInches = 0.75, kMaxInches = 100;  ///< each side
constexpr int kMaxPixels = 20000;                      ///< each side of a PNG

/// Length units for sizes given by users: "3.25in", "8.3cm", "85mm", "240pt", "900px" or "900".
enum class Unit { Px, Pt, In, Cm, Mm };
struct Length {
  double value = 0;
  Unit unit = Unit::Px;
  /// In output units of `format` at `dpi`: pixels for PNG, points for PDF and SVG (a pixel is
  /// 1/dpi in).
  double toOutputUnits(Format format, double dpi) const;
  /// In inches at `dpi`.
  double inches(double dpi) const;
};
/// False (with *error saying why) for anything but a positive number with an optional unit.
bool parseLength(const QString& text, Length* length, QString* error);

/// Format from a file suffix (png, pdf, svg, csv); false when unknown.
bool formatFromPath(const QString& path, Format* format);

/// The size (output units) that options give for `view` in `format` (resolves 0s).
QSize resolvedSize(PlotView* view, Format format, const ExportOptions& options);

/// Each returns false and sets *error (when given) to "<path>: <what is wrong>" on failure.
bool savePng(QCustomPlot* plot, const QString& path, const ExportOptions& options = {}, QString* error = nullptr);
bool savePdf(QCustomPlot* plot, const QString& path, const ExportOptions& options = {}, QString* error = nullptr);
bool saveSvg(QCustomPlot* plot, const QString& path, const ExportOptions& options = {}, QString* error = nullptr);
bool saveCsv(const PlotView* view, const QString& path, QString* error = nullptr);

/// Renders the PNG image in memory (what savePng writes); the figure is laid out at the
/// returned layout size, so its layout rects can be read afterwards (tests). Null on failure.
QImage renderImage(QCustomPlot* plot, const ExportOptions& options);

/// Dispatches on the suffix of `path` (resolving the size with the view's tight height).
bool save(PlotView* view, const QString& path, const ExportOptions& options = {}, QString* error = nullptr);

}  // namespace figure
