#include "controls_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QKeySequence>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSettings>
#include <QSpinBox>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "ess/memory_budget.h"

namespace {

/// A spin box for tolerances: shown in %g form, each step multiplies by about 10^(1/3)
/// (1e-3, 2e-3, 5e-3, 1e-2, ...).
class LogSpinBox : public QDoubleSpinBox {
 public:
  using QDoubleSpinBox::QDoubleSpinBox;
  void stepBy(int steps) override {
    double v = value();
    for (int i = 0; i < std::abs(steps); ++i) {
      const double e = std::floor(std::log10(v) + 1e-9);
      const double m = v / std::pow(10, e);
      double next;
      if (steps > 0) {
        next = m < 1.5 ? 2 : m < 3.5 ? 5 : 10;
      } else {
        next = m > 3.5 ? 2 : m > 1.5 ? 1 : 0.5;
      }
      v = next * std::pow(10, e);
    }
    setValue(v);
  }
  QString textFromValue(double v) const override { return QString::number(v, 'g', 4); }
  double valueFromText(const QString& text) const override { return text.toDouble(); }
  QValidator::State validate(QString& text, int&) const override {
    bool ok = false;
    text.toDouble(&ok);
    if (ok) return QValidator::Acceptable;
    static const QRegularExpression partial(QStringLiteral("^[0-9.]*([eE][-+]?[0-9]*)?$"));
    return partial.match(text).hasMatch() ? QValidator::Intermediate : QValidator::Invalid;
  }
};

}  // namespace

ElidedLabel::ElidedLabel(QWidget* parent) : QLabel(parent) {
  setWordWrap(false);
  setTextFormat(Qt::PlainText);
  setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
}

QString ElidedLabel::oneLine(const QString& text) {
  QString line = text;
  line.replace(QLatin1String("\r\n"), QString(QChar(0x23CE)));
  line.replace(QLatin1Char('\n'), QChar(0x23CE)).replace(QLatin1Char('\r'), QChar(0x23CE));
  line.replace(QLatin1Char('\t'), QLatin1Char(' '));
  return line;
}

void ElidedLabel::setFullText(const QString& text, const QString& extraTip) {
  full_ = text;
  // Very long inputs (a pasted document): the tooltip shows the start.
  constexpr int kMaxTip = 2000;
  QString tip = text.size() <= kMaxTip ? text : text.left(kMaxTip) + tr("… (%1 characters in all)").arg(text.size());
  if (!extraTip.isEmpty()) tip += (tip.isEmpty() ? QString() : QStringLiteral("\n")) + extraTip;
  setToolTip(tip);
  updateElided();
  updateGeometry();
}

QSize ElidedLabel::sizeHint() const {
  const QSize s = QLabel::sizeHint();
  const int width = fontMetrics().horizontalAdvance(oneLine(full_)) + 2 * margin() + 4;
  return {std::min(width, 400), s.height()};
}

QSize ElidedLabel::minimumSizeHint() const {
  return {fontMetrics().averageCharWidth() * 6, QLabel::minimumSizeHint().height()};
}

void ElidedLabel::resizeEvent(QResizeEvent* event) {
  QLabel::resizeEvent(event);
  updateElided();
}

void ElidedLabel::updateElided() {
  const int width = std::max(0, contentsRect().width() - 2 * margin());
  QLabel::setText(fontMetrics().elidedText(oneLine(full_), Qt::ElideRight, width));
}

ControlsPanel::ControlsPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);

  // Input.
  inputGroup_ = new QGroupBox(tr("Input"), this);
  auto* inputForm = new QFormLayout(inputGroup_);
  seed_ = new QSpinBox(inputGroup_);
  seed_->setRange(0, 1 << 30);
  length_ = new QSpinBox(inputGroup_);
  length_->setRange(2, 1 << 20);
  length_->setValue(64);
  pairs_ = new QSpinBox(inputGroup_);
  pairs_->setRange(1, 1 << 16);
  pairs_->setValue(8);
  auto* mqarRow = new QHBoxLayout;
  mqarRow->addWidget(new QLabel(tr("seed"), inputGroup_));
  mqarRow->addWidget(seed_);
  mqarRow->addWidget(new QLabel(tr("len"), inputGroup_));
  mqarRow->addWidget(length_);
  mqarRow->addWidget(new QLabel(tr("pairs"), inputGroup_));
  mqarRow->addWidget(pairs_);
  auto* mqarApply = new QPushButton(tr("Apply MQAR"), inputGroup_);
  mqarApply->setToolTip(tr("Multi-query associative recall sample (docs/definitions.md section 4)"));
  inputForm->addRow(tr("MQAR"), mqarRow);
  inputForm->addRow(QString(), mqarApply);
  specEdit_ = new QLineEdit(inputGroup_);
  specEdit_->setPlaceholderText(QStringLiteral("tokens:1,2,3  or  random:seed=0,len=64"));
  specEdit_->setClearButtonEnabled(true);
  auto* specApply = new QPushButton(tr("Apply"), inputGroup_);
  auto* specRow = new QHBoxLayout;
  specRow->addWidget(specEdit_, 1);
  specRow->addWidget(specApply);
  inputForm->addRow(tr("Spec"), specRow);
  textEdit_ = new QPlainTextEdit(inputGroup_);
  textEdit_->setPlaceholderText(tr("Text to run through the model"));
  textEdit_->setTabChangesFocus(true);
  textEdit_->setFixedHeight(textEdit_->fontMetrics().lineSpacing() * 4 + 10);
  applyText_ = new QPushButton(tr("Apply text"), inputGroup_);
  applyText_->setToolTip(tr("Sets the input text:<the text>, tokenized by the checkpoint's tokenizer"));
  applyText_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return));
  applyText_->setToolTip(applyText_->toolTip() + tr(" (Ctrl+Return)"));
  textFile_ = new QPushButton(tr("Text file…"), inputGroup_);
  textFile_->setToolTip(
      tr("Sets the input textfile:<path>: a UTF-8 text file, tokenized by the checkpoint's "
         "tokenizer (a .txt file dropped on the window does the same)"));
  textEdit_->installEventFilter(this);
  inputForm->addRow(tr("Text"), textEdit_);
  auto* textRow = new QHBoxLayout;
  textRow->addWidget(applyText_);
  textRow->addWidget(textFile_);
  textRow->addStretch(1);
  inputForm->addRow(QString(), textRow);
  currentInput_ = new ElidedLabel(inputGroup_);
  QFont small = currentInput_->font();
  small.setPointSizeF(small.pointSizeF() * 0.9);
  currentInput_->setFont(small);
  inputForm->addRow(tr("Current"), currentInput_);
  layout->addWidget(inputGroup_);

  connect(mqarApply, &QPushButton::clicked, this, [this] { emit inputRequested(mqarSpec()); });
  auto applySpec = [this] {
    const QString spec = specEdit_->text().trimmed();
    if (!spec.isEmpty()) emit inputRequested(spec);
  };
  connect(specApply, &QPushButton::clicked, this, applySpec);
  connect(applyText_, &QPushButton::clicked, this, [this] {
    const QString text = textEdit_->toPlainText();
    if (text.isEmpty()) {
      emit statusMessage(tr("Apply text: type a text first (or use Text file…)"));
      textEdit_->setFocus();
      return;
    }
    emit inputRequested(QStringLiteral("text:") + text);
  });
  connect(textFile_, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Run a Text File Through the Model"), QString(),
                                                      tr("Text files (*.txt *.md *.text);;All files (*)"));
    if (!path.isEmpty()) emit inputRequested(QStringLiteral("textfile:") + path);
  });
  connect(specEdit_, &QLineEdit::returnPressed, this, applySpec);

  // ESS options.
  auto* essGroup = new QGroupBox(tr("Effective state-size"), this);
  auto* essForm = new QFormLayout(essGroup);
  tolerance_ = new LogSpinBox(essGroup);
  tolerance_->setDecimals(15);
  tolerance_->setRange(1e-15, 1.0);
  tolerance_->setValue(1e-3);
  tolerance_->setKeyboardTracking(false);
  tolerance_->setToolTip(tr("tolerance-ESS counts singular values above tolerance x reference"));
  normalization_ = new QComboBox(essGroup);
  normalization_->addItem(tr("max (σ_1)"), QStringLiteral("max"));
  normalization_->addItem(tr("sum (Σσ)"), QStringLiteral("sum"));
  normalization_->addItem(tr("none (1)"), QStringLiteral("none"));
  dtype_ = new QComboBox(essGroup);
  dtype_->addItem(QStringLiteral("float64"), QStringLiteral("float64"));
  dtype_->addItem(QStringLiteral("float32"), QStringLiteral("float32"));
  essForm->addRow(tr("Tolerance"), tolerance_);
  essForm->addRow(tr("Normalization"), normalization_);
  essForm->addRow(tr("SVD dtype"), dtype_);
  layout->addWidget(essGroup);
  auto emitOptions = [this] { emit optionsChanged(options()); };
  connect(tolerance_, qOverload<double>(&QDoubleSpinBox::valueChanged), this, emitOptions);
  connect(normalization_, qOverload<int>(&QComboBox::currentIndexChanged), this, emitOptions);
  connect(dtype_, qOverload<int>(&QComboBox::currentIndexChanged), this, emitOptions);

  // View.
  auto* viewGroup = new QGroupBox(tr("View"), this);
  auto* viewLayout = new QVBoxLayout(viewGroup);
  logScale_ = new QCheckBox(tr("Heatmap: log10 |T|"), viewGroup);
  allHeads_ = new QCheckBox(tr("ESS curve: all heads of the layer"), viewGroup);
  viewLayout->addWidget(logScale_);
  // Colours as `ess render --colormap/--range/--mask-upper` takes them.
  colorMap_ = new QComboBox(viewGroup);
  colorMap_->addItem(tr("auto (diverging if signed)"), QStringLiteral("auto"));
  for (auto m : {colormaps::Map::Viridis, colormaps::Map::Magma, colormaps::Map::Cividis, colormaps::Map::Diverging})
    colorMap_->addItem(colormaps::name(m), colormaps::name(m));
  colorMap_->setToolTip(tr("Heatmap colours: the diverging map is centred on 0 (blue negative, red positive)"));
  colorRange_ = new QLineEdit(QStringLiteral("auto"), viewGroup);
  colorRange_->setPlaceholderText(tr("auto, symmetric, MIN:MAX or p99"));
  colorRange_->setToolTip(
      tr("Heatmap colour range: auto (min..max), symmetric (-m..m), MIN:MAX (log scale: log10 units) or "
         "pNN (clip at the NNth percentile)"));
  auto* colorForm = new QFormLayout;
  colorForm->addRow(tr("Colormap"), colorMap_);
  colorForm->addRow(tr("Range"), colorRange_);
  viewLayout->addLayout(colorForm);
  maskUpper_ = new QCheckBox(tr("Heatmap: mask the causal upper triangle"), viewGroup);
  viewLayout->addWidget(maskUpper_);
  viewLayout->addWidget(allHeads_);
  // Operators whose dense H x L x L float64 form exceeds the budget are shown from tiles.
  memoryBudget_ = new QDoubleSpinBox(viewGroup);
  memoryBudget_->setDecimals(2);
  memoryBudget_->setRange(0.01, 4096.0);
  memoryBudget_->setSuffix(tr(" GiB"));
  memoryBudget_->setKeyboardTracking(false);
  // Unset, the default: half this machine's memory (ess/memory_budget.h).
  memoryBudget_->setValue(
      QSettings()
          .value(QStringLiteral("memoryBudgetGiB"), double(ess::defaultMemoryBudget()) / double(1 << 30))
          .toDouble());
  memoryBudget_->setToolTip(
      tr("Largest dense operator (heads x L x L float64) formed in memory. Longer "
         "operators are drawn from tiles; ESS curves and spectra of generator "
         "files never need the dense form."));
  auto* budgetRow = new QHBoxLayout;
  budgetRow->addWidget(new QLabel(tr("Memory budget"), viewGroup));
  budgetRow->addWidget(memoryBudget_, 1);
  viewLayout->addLayout(budgetRow);
  layout->addWidget(viewGroup);
  connect(logScale_, &QCheckBox::toggled, this, &ControlsPanel::logScaleChanged);
  connect(colorMap_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
    colormaps::Map map = colormaps::Map::Viridis;
    const bool automatic = !colormaps::fromName(colorMap_->currentData().toString(), &map);
    emit colorMapChanged(automatic, map);
  });
  connect(colorRange_, &QLineEdit::editingFinished, this, &ControlsPanel::applyColorRange);
  connect(maskUpper_, &QCheckBox::toggled, this, &ControlsPanel::maskUpperChanged);
  connect(allHeads_, &QCheckBox::toggled, this, &ControlsPanel::allHeadsChanged);
  connect(memoryBudget_, qOverload<double>(&QDoubleSpinBox::valueChanged), this, [this](double gib) {
    QSettings().setValue(QStringLiteral("memoryBudgetGiB"), gib);
    emit memoryBudgetChanged(memoryBudget());
  });

  layout->addStretch(1);
  setInputState(false, QString(), 0, 0);
}

bool ControlsPanel::eventFilter(QObject* watched, QEvent* event) {
  if (watched == textEdit_ && (event->type() == QEvent::KeyPress || event->type() == QEvent::ShortcutOverride)) {
    auto* key = static_cast<QKeyEvent*>(event);
    const bool apply =
        (key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter) && (key->modifiers() & Qt::ControlModifier);
    if (apply) {
      // The override is taken so that the key arrives here once, as a key press.
      event->accept();
      if (event->type() == QEvent::KeyPress) applyText_->click();
      return true;
    }
  }
  return QWidget::eventFilter(watched, event);
}

void ControlsPanel::applyColorRange() {
  HeatmapView::ColorRange range;
  QString error;
  if (HeatmapView::ColorRange::parse(colorRange_->text().trimmed(), &range, &error))
    emit colorRangeChanged(range);
  else
    emit statusMessage(tr("Range: %1").arg(error));
}

void ControlsPanel::setColorRangeText(const QString& text) {
  colorRange_->setText(text);
  applyColorRange();
}

QString ControlsPanel::mqarSpec() const {
  QString spec =
      QStringLiteral("mqar:seed=%1,len=%2,pairs=%3").arg(seed_->value()).arg(length_->value()).arg(pairs_->value());
  if (vocab_ > 0) spec += QStringLiteral(",vocab=%1").arg(vocab_);
  return spec;
}

void ControlsPanel::setInputState(bool needsInput, const QString& spec, int vocab, int maxLength) {
  vocab_ = vocab;
  inputGroup_->setEnabled(needsInput);
  inputGroup_->setToolTip(needsInput ? QString() : tr("Operator files do not depend on an input."));
  currentInput_->setFullText(needsInput ? spec : tr("none (operator file)"));
  length_->setMaximum(maxLength > 0 ? maxLength : (1 << 20));
  // Pre-fill the MQAR fields from an mqar: spec.
  static const QRegularExpression field(QStringLiteral("(seed|len|pairs)=(\\d+)"));
  if (spec.startsWith(QLatin1String("mqar:"))) {
    auto it = field.globalMatch(spec);
    while (it.hasNext()) {
      const auto m = it.next();
      const int v = m.captured(2).toInt();
      if (m.captured(1) == QLatin1String("seed"))
        seed_->setValue(v);
      else if (m.captured(1) == QLatin1String("len"))
        length_->setValue(v);
      else
        pairs_->setValue(v);
    }
  } else if (!spec.isEmpty()) {
    specEdit_->setText(spec);
  }
}

ess::EssOptions ControlsPanel::options() const {
  return ess::EssOptions()
      .tolerance(tolerance_->value())
      .normalization(ess::parseNormalization(normalization_->currentData().toString().toStdString()))
      .dtype(ess::parseDType(dtype_->currentData().toString().toStdString()));
}

qint64 ControlsPanel::memoryBudget() const { return qint64(memoryBudget_->value() * double(qint64(1) << 30)); }
