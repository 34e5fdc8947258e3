// ControlsPanel: the side panel's editors for what a Document computes: the input (an MQAR
// sample from seed, length and pairs, or a typed spec such as "tokens:1,2,3"), the ESS options
// (tolerance, normalization, dtype), how the views draw (linear or log10 heatmap, its colormap,
// colour range and upper-triangle mask, all heads) and
// the memory budget for dense operators (saved with QSettings, default ess::defaultMemoryBudget()).
// It only emits intent; the main window applies it to the Document and the views.
#pragma once
#include <QLabel>
#include <QWidget>

#include "ess/ess_options.h"
#include "heatmap_view.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QGroupBox;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

/// A one-line label for text of any length (inputs typed or loaded from files): newlines show
/// as ⏎ (U+23CE), tabs as spaces, and what does not fit the label's width is elided with …;
/// the tooltip holds the full text (its first 2000 characters) and `extraTip`, when given, on
/// its own line.
class ElidedLabel : public QLabel {
  Q_OBJECT
 public:
  explicit ElidedLabel(QWidget* parent = nullptr);
  void setFullText(const QString& text, const QString& extraTip = QString());
  const QString& fullText() const { return full_; }
  /// The text on one line (newlines as ⏎), before elision.
  static QString oneLine(const QString& text);
  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  void updateElided();
  QString full_;
};

class ControlsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit ControlsPanel(QWidget* parent = nullptr);

  /// Shows the document's current input; `needsInput` false (operator files) disables the
  /// input editor. `vocab` and `maxLength` bound the MQAR fields (0 = unknown / no limit).
  void setInputState(bool needsInput, const QString& spec, int vocab, int maxLength);
  ess::EssOptions options() const;
  /// Memory budget for dense operators, in bytes.
  qint64 memoryBudget() const;
  QDoubleSpinBox* memoryBudgetBox() const { return memoryBudget_; }

  QLineEdit* specEdit() const { return specEdit_; }
  /// The text box: "Apply text" requests the input "text:<its text>" (tokenized by the
  /// checkpoint's tokenizer, or as bytes by byte-level models).
  QPlainTextEdit* textEdit() const { return textEdit_; }
  /// Clicked (or Ctrl+Return) with an empty text box: statusMessage("type a text first").
  QPushButton* applyTextButton() const { return applyText_; }
  /// "Current": the input in use, on one line, elided (full text in the tooltip).
  ElidedLabel* currentInputLabel() const { return currentInput_; }
  QDoubleSpinBox* toleranceBox() const { return tolerance_; }
  QComboBox* normalizationBox() const { return normalization_; }
  QCheckBox* logScaleBox() const { return logScale_; }
  /// "auto" (diverging for signed operators, viridis otherwise), viridis, magma, cividis, diverging.
  QComboBox* colorMapBox() const { return colorMap_; }
  /// The colour range as `ess render --range` takes it: auto, symmetric, MIN:MAX or pNN.
  QLineEdit* colorRangeEdit() const { return colorRange_; }
  QCheckBox* maskUpperBox() const { return maskUpper_; }
  QComboBox* dtypeBox() const { return dtype_; }
  QCheckBox* allHeadsBox() const { return allHeads_; }
  /// Puts `text` into the Range field and applies it as if typed (a restored session).
  void setColorRangeText(const QString& text);

 signals:
  void inputRequested(const QString& spec);
  void optionsChanged(const ess::EssOptions& options);
  void logScaleChanged(bool log);
  /// `automatic` true: the heatmap picks its map from the operator's signs.
  void colorMapChanged(bool automatic, colormaps::Map map);
  /// Emitted only for a valid range; a malformed one gives statusMessage(why) instead.
  void colorRangeChanged(const HeatmapView::ColorRange& range);
  void maskUpperChanged(bool mask);
  void allHeadsChanged(bool all);
  /// The user changed the memory budget (bytes); already saved in QSettings.
  void memoryBudgetChanged(qint64 bytes);
  /// A short note for the status bar (e.g. why a button did nothing).
  void statusMessage(const QString& text);

 protected:
  /// Ctrl+Return (or Ctrl+Enter) in the text box applies the text (the text box would take the
  /// key before the button's shortcut).
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  QString mqarSpec() const;
  void applyColorRange();

  QGroupBox* inputGroup_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QSpinBox* length_ = nullptr;
  QSpinBox* pairs_ = nullptr;
  QLineEdit* specEdit_ = nullptr;
  QPlainTextEdit* textEdit_ = nullptr;
  QPushButton* applyText_ = nullptr;
  QPushButton* textFile_ = nullptr;
  ElidedLabel* currentInput_ = nullptr;
  QDoubleSpinBox* tolerance_ = nullptr;
  QComboBox* normalization_ = nullptr;
  QComboBox* dtype_ = nullptr;
  QCheckBox* logScale_ = nullptr;
  QComboBox* colorMap_ = nullptr;
  QLineEdit* colorRange_ = nullptr;
  QCheckBox* maskUpper_ = nullptr;
  QCheckBox* allHeads_ = nullptr;
  QDoubleSpinBox* memoryBudget_ = nullptr;
  int vocab_ = 0;
};
