#include "tab_presenter.h"

#include "comparison.h"
#include "plot_view.h"
#include "selection.h"

TabPresenter::TabPresenter(Document* document, Selection* selection, SplitPoint* split, QObject* parent)
    : QObject(parent), document_(document), selection_(selection), split_(split) {}

void TabPresenter::setComparison(Comparison* comparison) {
  comparison_ = comparison;
  connect(comparison_, &Comparison::changed, this, &TabPresenter::comparisonChanged);
  connect(comparison_, &Comparison::operatorReady, this, &TabPresenter::pinnedOperatorReady);
  connect(comparison_, &Comparison::curveReady, this, &TabPresenter::pinnedCurveReady);
  connect(comparison_, &Comparison::layerSummaryReady, this, &TabPresenter::pinnedLayersReady);
}

bool TabPresenter::comparing() const { return comparison_ && comparison_->isActive(); }

PlotView* TabPresenter::exportPreselection(PlotView*) const { return views().value(0); }

QString TabPresenter::exportName(PlotView* view, const QString& base, const QString& suffix) const {
  return selectionStem(base) + QLatin1Char('_') + view->figureName() + QLatin1Char('.') + suffix;
}

QString TabPresenter::selectionStem(const QString& base) const {
  const Selection& s = *selection_;
  if (!s.isValid()) return base;
  if (s.isLayerTotal()) return base + QStringLiteral("_layer%1_total").arg(s.layer());
  if (s.isAggregate()) return base + QStringLiteral("_layer%1_heads%2-%3").arg(s.layer()).arg(s.first()).arg(s.last());
  return base + QStringLiteral("_layer%1_head%2").arg(s.layer()).arg(s.head());
}
