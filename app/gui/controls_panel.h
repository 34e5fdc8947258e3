// ControlsPanel: the side panel's editors for what a Document computes: the input (an MQAR
// sample from seed, length and pairs, or a typed spec such as "tokens:1,2,3"), the ESS options
// (tolerance, normalization, dtype), how the views draw (linear or log10 heatmap, all heads) and
// the memory budget for dense operators (saved with QSettings, default 2 GiB).
// It only emits intent; the main window applies it to the Document and the views.
#pragma once
#include <QWidget>

#include "ess/ess_options.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

class ControlsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit ControlsPanel(QWidget* parent = nullptr);

  /// Shows the document's current input; `needsInput` false (operator files) disables the
  /// input editor. `vocab` and `maxLength` bound the MQAR fields (0 = unknown / no limit).
  void setInputState(bool needsInput, const QString& spec, int vocab, int maxLength);
  ess::EssOptions options() const;
  bool logScale() const;
  bool allHeads() const;
  /// Memory budget for dense operators, in bytes.
  qint64 memoryBudget() const;
  QDoubleSpinBox* memoryBudgetBox() const { return memoryBudget_; }

  QLineEdit* specEdit() const { return specEdit_; }
  /// The text box: "Apply text" requests the input "text:<its text>" (tokenized by the
  /// checkpoint's tokenizer, or as bytes by byte-level models).
  QPlainTextEdit* textEdit() const { return textEdit_; }
  QPushButton* applyTextButton() const { return applyText_; }
  /// Opens a file dialog and asks for the input textfile:<path>.
  QPushButton* textFileButton() const { return textFile_; }
  QDoubleSpinBox* toleranceBox() const { return tolerance_; }
  QComboBox* normalizationBox() const { return normalization_; }
  QComboBox* dtypeBox() const { return dtype_; }
  QCheckBox* logScaleBox() const { return logScale_; }

 signals:
  void inputRequested(const QString& spec);
  void optionsChanged(const ess::EssOptions& options);
  void logScaleChanged(bool log);
  void allHeadsChanged(bool all);
  /// The user changed the memory budget (bytes); already saved in QSettings.
  void memoryBudgetChanged(qint64 bytes);

 private:
  QString mqarSpec() const;

  QGroupBox* inputGroup_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QSpinBox* length_ = nullptr;
  QSpinBox* pairs_ = nullptr;
  QLineEdit* specEdit_ = nullptr;
  QPlainTextEdit* textEdit_ = nullptr;
  QPushButton* applyText_ = nullptr;
  QPushButton* textFile_ = nullptr;
  QLabel* currentInput_ = nullptr;
  QDoubleSpinBox* tolerance_ = nullptr;
  QComboBox* normalization_ = nullptr;
  QComboBox* dtype_ = nullptr;
  QCheckBox* logScale_ = nullptr;
  QCheckBox* allHeads_ = nullptr;
  QDoubleSpinBox* memoryBudget_ = nullptr;
  int vocab_ = 0;
};
