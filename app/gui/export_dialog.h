// ExportDialog: asks which view to export and how (PNG at a chosen size and DPI, vector PDF or
// SVG, or the numbers behind the view as CSV). The file name is asked for afterwards.
#pragma once
#include <QDialog>

#include "figure_export.h"

class QComboBox;
class QSpinBox;
class QLabel;

class ExportDialog : public QDialog {
  Q_OBJECT
 public:
  /// `views` are the names offered ("heatmap", ...); `current` is preselected. The format and
  /// DPI accepted last are restored (QSettings); sizes say px for PNG, pt for PDF and SVG.
  ExportDialog(const QStringList& views, int current, QSize size, QWidget* parent = nullptr);

  int viewIndex() const;
  /// The view and format choosers (tests drive the dialog through them).
  QComboBox* viewBox() const { return view_; }
  QComboBox* formatBox() const { return format_; }
  QSpinBox* widthBox() const { return width_; }
  QSpinBox* dpiBox() const { return dpi_; }
  figure::Format format() const;
  figure::ExportOptions options() const;
  /// "png", "pdf", "svg" or "csv".
  QString suffix() const;

 private:
  void updateEnabled();

  QComboBox* view_ = nullptr;
  QComboBox* format_ = nullptr;
  QSpinBox* width_ = nullptr;
  QSpinBox* height_ = nullptr;
  QSpinBox* dpi_ = nullptr;
  QLabel* hint_ = nullptr;
};
