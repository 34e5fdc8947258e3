// ExportDialog: asks which view to export and how (PNG at a chosen size and DPI, vector PDF or
// SVG, or the numbers behind the view as CSV), with the options of `ess render`: the style
// (screen or paper), the font family and size, and the figure's own (tight) height. Given the
// views themselves it previews the result, rendered by the export code (figure::renderImage) at
// the chosen physical size. The file name is asked for afterwards.
#pragma once
#include <QDialog>
#include <QImage>
#include <QList>

#include "figure_export.h"
#include "plot_view.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFontComboBox;
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
  QSpinBox* widthBox() const { return width_; }
  QSpinBox* heightBox() const { return height_; }
  QSpinBox* dpiBox() const { return dpi_; }
  QComboBox* styleBox() const { return style_; }
  QFontComboBox* fontBox() const { return font_; }
  /// Tick-label size in points; 0: the style's.
  QDoubleSpinBox* fontSizeBox() const { return fontSize_; }
  /// Checked: the height is the figure's own for the width (PlotView::tightHeight or aspect).
  QCheckBox* tightBox() const { return tight_; }
  /// The preview shown (null without views or for CSV).
  const QImage& preview() const { return preview_; }

  figure::Format format() const;
  figure::ExportOptions options() const;
  /// The style chosen (FigureStyle; the title kept as the view's for the screen style, none for
  /// the paper style, as in `ess render`).
  FigureStyle figureStyle() const;
  /// "png", "pdf", "svg" or "csv".
  QString suffix() const;

  /// Writes `view` to `path` in the chosen style and size, then gives the view back its own
  /// style. False with *error ("<path>: <what>") on failure.
  bool exportView(PlotView* view, const QString& path, QString* error) const;

 private:
  void build(const QStringList& names, int current, QSize size);
  void updateEnabled();
  void updatePreview();
  PlotView* currentView() const;

  QList<PlotView*> views_;
  QComboBox* view_ = nullptr;
  QComboBox* format_ = nullptr;
  QSpinBox* width_ = nullptr;
  QSpinBox* height_ = nullptr;
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
