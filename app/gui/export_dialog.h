// ExportDialog: asks which view to export and how (PNG at a chosen size and DPI, vector PDF or
// SVG, or the numbers behind the view as CSV), with the options of `ess render`: the style
// (screen or paper), the font family and size, and the figure's own (tight) height. Given the
// views themselves it previews the result, rendered by the export code (figure::renderImage) at
// the chosen physical size. Sizes are given in a unit of the user's choice (px, in or cm for
// PNG; pt, in or cm for PDF and SVG). Heatmap exports take their own colormap and colour range
// (default: the view's). The file name is asked for afterwards.
#pragma once
#include <QDialog>
#include <QImage>
#include <QList>

#include "figure_export.h"
#include "heatmap_view.h"
#include "plot_view.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFontComboBox;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QLabel;

class ExportDialog : public QDialog {
  Q_OBJECT
 public:
  /// `views` (named `names`) are offered; `current` is preselected. The dialog previews the
  /// chosen view and proposes the figure's own height for the width (a heatmap: square).
  ExportDialog(const QList<PlotView*>& views, const QStringList& names, int current, QWidget* parent = nullptr);
  /// Names only: no preview, `size` is the default size.
  ExportDialog(const QStringList& views, int current, QSize size, QWidget* parent = nullptr);

  int viewIndex() const;
  /// The choosers (tests drive the dialog through them).
  QComboBox* viewBox() const { return view_; }
  QComboBox* formatBox() const { return format_; }
  /// Width and height in unit() (whole numbers for px and pt, two decimals for in and cm).
  QDoubleSpinBox* widthBox() const { return width_; }
  QDoubleSpinBox* heightBox() const { return height_; }
  /// The size's unit: data "px", "in", "cm" for PNG; "pt", "in", "cm" for PDF and SVG.
  /// Changing it converts the size (a pixel is 1/dpi in), so the figure stays as large.
  QComboBox* unitBox() const { return unit_; }
  figure::Unit unit() const;
  QSpinBox* dpiBox() const { return dpi_; }
  QComboBox* styleBox() const { return style_; }
  QFontComboBox* fontBox() const { return font_; }
  /// Tick-label size in points; 0: the style's.
  QDoubleSpinBox* fontSizeBox() const { return fontSize_; }
  /// Checked: the height is the figure's own for the width (PlotView::tightHeight or aspect).
  QCheckBox* tightBox() const { return tight_; }
  /// Heatmap exports: data "view" (the view's map, the default), "auto" or colormaps::name().
  QComboBox* colorMapBox() const { return colorMap_; }
  /// Heatmap exports: the range as `ess render --range` takes it; empty: the view's.
  QLineEdit* colorRangeEdit() const { return colorRange_; }
  /// The preview shown (null without views or for CSV).
  const QImage& preview() const { return preview_; }

  figure::Format format() const;
  figure::ExportOptions options() const;
  /// The style chosen (FigureStyle; the title kept as the view's for the screen style, none for
  /// the paper style, as in `ess render`).
  FigureStyle figureStyle() const;
  /// The map and range a heatmap export is drawn with (the view's where the dialog says so);
  /// false (with *error) for a malformed range.
  bool heatmapColors(const HeatmapView* view, bool* automatic, colormaps::Map* map, HeatmapView::ColorRange* range,
                     QString* error = nullptr) const;
  /// "png", "pdf", "svg" or "csv".
  QString suffix() const;

  /// Writes `view` to `path` in the chosen style, size and (heatmaps) colours, then gives the
  /// view back its own. False with *error ("<path>: <what>") on failure.
  bool exportView(PlotView* view, const QString& path, QString* error) const;

 private:
  void build(const QStringList& names, int current, QSize size);
  void updateEnabled();
  void updatePreview();
  /// Fills the unit chooser for the format (keeping in and cm; px <-> pt converted).
  void updateUnits();
  void convertSize(figure::Unit from, figure::Unit to);
  PlotView* currentView() const;
  /// The current view in the dialog's style and colours while it lives, then as it was.
  class Styled;

  QList<PlotView*> views_;
  QComboBox* view_ = nullptr;
  QComboBox* format_ = nullptr;
  QDoubleSpinBox* width_ = nullptr;
  QDoubleSpinBox* height_ = nullptr;
  QComboBox* unit_ = nullptr;
  figure::Unit shownUnit_ = figure::Unit::Px;  // the unit the spin boxes hold now
  int shownDpi_ = 96;                          // the dpi the px values were converted at
  QComboBox* colorMap_ = nullptr;
  QLineEdit* colorRange_ = nullptr;
  QPushButton* ok_ = nullptr;
  QSpinBox* dpi_ = nullptr;
  QComboBox* style_ = nullptr;
  QFontComboBox* font_ = nullptr;
  QDoubleSpinBox* fontSize_ = nullptr;
  QCheckBox* tight_ = nullptr;
  QLabel* hint_ = nullptr;
  QLabel* previewLabel_ = nullptr;
  QImage preview_;
  bool updating_ = false;
};
