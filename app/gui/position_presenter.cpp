#include "position_presenter.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QVBoxLayout>

#include "comparison.h"
#include "document.h"
#include "position_ess_view.h"
#include "selection.h"
#include "titles.h"
#include "view_data.h"

PositionPresenter::PositionPresenter(Document* document, Selection* selection, SplitPoint* split, QWidget* window)
    : TabPresenter(document, selection, split, window) {
  position_ = new PositionEssView(window);
  position_->setSplitPoint(split_);

  auto* page = new QWidget(window);
  auto* layout = new QVBoxLayout(page);
  layout->setContentsMargins(2, 2, 2, 2);
  auto* bar = new QHBoxLayout;
  all_ = new QCheckBox(tr("All layers (layer totals)"), page);
  all_->setToolTip(tr("One row per layer, each layer's total; computes every layer's curves"));
  marks_ = new QLineEdit(page);
  marks_->setText(QString::fromUtf8(viewdata::kDefaultMarks));
  marks_->setToolTip(tr("Tokens to mark, comma-separated; \\n is a newline, \\, a comma"));
  auto* marksLabel = new QLabel(tr("mark tokens:"), page);
  marksLabel->setBuddy(marks_);
  bar->addWidget(all_);
  bar->addSpacing(12);
  bar->addWidget(marksLabel);
  bar->addWidget(marks_, 1);
  layout->addLayout(bar);
  layout->addWidget(position_, 1);
  setPage(page);
  position_->setMarkedTokens(PositionEssView::parseMarks(marks_->text()));
  connect(marks_, &QLineEdit::textChanged, this,
          [this](const QString& text) { position_->setMarkedTokens(PositionEssView::parseMarks(text)); });
  connect(all_, &QCheckBox::toggled, this, [this](bool all) {
    if (all && document_->isOpen()) document_->requestAllCurves();
    if (all && comparing()) comparison_->requestAllCurves();
    refresh();
  });

  connect(selection_, &Selection::changed, this, &PositionPresenter::refresh);
  connect(document_, &Document::curveReady, this, &PositionPresenter::onCurveReady);
  connect(document_, &Document::layerSummaryReady, this, &PositionPresenter::refresh);
  connect(document_, &Document::inputChanged, this, &PositionPresenter::onInvalidated);
  connect(document_, &Document::optionsChanged, this, &PositionPresenter::onInvalidated);
}

QList<PlotView*> PositionPresenter::views() const { return {position_}; }

QString PositionPresenter::exportName(PlotView*, const QString& base, const QString& suffix) const {
  if (all_->isChecked()) return base + QStringLiteral("_position_all_layers.") + suffix;
  return selectionStem(base) + QStringLiteral("_position.") + suffix;
}

void PositionPresenter::activated() {
  if (all_->isChecked() && document_->isOpen()) document_->requestAllCurves();
  refresh();
}

void PositionPresenter::documentOpened() { position_->clear(); }

void PositionPresenter::onCurveReady(int layer) {
  if (layer == selection_->layer() || all_->isChecked()) refresh();
}

void PositionPresenter::onInvalidated() {
  position_->clear();
  if (isCurrent() && all_->isChecked()) document_->requestAllCurves();
}

void PositionPresenter::refresh() {
  const QStringList tokens = document_->tokenLabels();
  viewdata::markMqarRoles(*position_, document_->inputSpec().toStdString(), document_->info());
  const QString tol = titles::toleranceSuffix(document_->options().tolerance_);
  QVector<PositionRow> rows;
  if (all_->isChecked()) {
    std::vector<const ess::CurveData*> curves;
    for (int l = 0; l < document_->layerCount(); ++l) curves.push_back(document_->curveData(l));
    rows = viewdata::layerTotalRows(document_->info(), curves);
    if (comparing()) {
      std::vector<const ess::CurveData*> pinned;
      for (int l = 0; l < comparison_->pinned()->layerCount(); ++l)
        pinned.push_back(comparison_->pinned()->curveData(l));
      const QVector<PositionRow> a = viewdata::layerTotalRows(comparison_->pinned()->info(), pinned);
      for (PositionRow& row : rows) {
        row.series.checkpoint = comparison_->nameB();
        row.series.step = comparison_->stepB();
        for (const PositionRow& ra : a)
          if (ra.layer == row.layer) {
            row.compare = ra.series;
            row.compare.checkpoint = comparison_->nameA();
            row.compare.step = comparison_->stepA();
          }
      }
    }
    const QString missing = rows.size() < document_->layerCount()
                                ? tr(" [%1 of %2 layers]").arg(rows.size()).arg(document_->layerCount())
                                : QString();
    position_->setRows(rows, tokens, tr("ESS over position, every layer's total") + tol + missing);
    return;
  }
  const Selection& s = *selection_;
  const int layer = s.layer(), head = s.head();
  const ess::CurveData* c = document_->curveData(layer);
  if (!c || head < 0 || head >= int(c->tolerance.size())) {
    position_->setRows({}, tokens);
    return;
  }
  const QString label = titles::selectionLabel(document_->info(), s);
  if (s.isAggregate()) {
    ess::HeadTotal t;
    if (!document_->total(layer, s.first(), s.last(), &t)) return;
    rows.append({layer, viewdata::totalSeries(t, label)});
    ess::HeadTotal ta;
    if (comparing() && comparison_->pinned()->total(layer, s.first(), s.last(), &ta))
      rows[0].compare = viewdata::totalSeries(ta, label);
  } else {
    rows.append({layer, viewdata::series(*c, head)});
    const ess::CurveData* a = comparing() ? comparison_->pinned()->curveData(layer) : nullptr;
    if (a && head < int(a->tolerance.size())) rows[0].compare = viewdata::series(*a, head);
  }
  if (!rows[0].compare.splits.isEmpty()) {
    rows[0].series.checkpoint = comparison_->nameB();
    rows[0].compare.checkpoint = comparison_->nameA();
    rows[0].series.step = comparison_->stepB();
    rows[0].compare.step = comparison_->stepA();
  }
  position_->setRows(rows, tokens, tr("ESS over position, layer %1 %2").arg(layer).arg(label) + tol);
}

void PositionPresenter::comparisonChanged() {
  if (comparing()) {
    if (all_->isChecked())
      comparison_->requestAllCurves();
    else
      comparison_->requestCurve(selection_->layer());
  }
  refresh();
}

void PositionPresenter::pinnedCurveReady(int layer) {
  if (layer == selection_->layer() || all_->isChecked()) refresh();
}
