#include "layer_tree.h"

#include <QHeaderView>
#include <algorithm>
#include <cmath>
#include <functional>

#include "document.h"
#include "selection.h"
#include "view_data.h"

namespace {
constexpr int kLayerRole = Qt::UserRole;
constexpr int kHeadRole = Qt::UserRole + 1;   // single head or channel items
constexpr int kFirstRole = Qt::UserRole + 2;  // group and layer-total items: first..last
constexpr int kLastRole = Qt::UserRole + 3;
constexpr int kTotalRole = Qt::UserRole + 4;  // the layer-total item
}  // namespace

LayerTree::LayerTree(Document* document, Selection* selection, QWidget* parent)
    : QTreeWidget(parent), document_(document), selection_(selection) {
  setHeaderLabel(tr("Layers and heads"));
  header()->setStretchLastSection(true);
  connect(this, &QTreeWidget::currentItemChanged, this, &LayerTree::onCurrentItemChanged);
  connect(selection_, &Selection::changed, this, &LayerTree::followSelection);
  connect(document_, &Document::curveReady, this, [this](int layer) { updateTotals(layer); });
  connect(document_, &Document::optionsChanged, this, &LayerTree::updateAllTotals);
  connect(document_, &Document::inputChanged, this, &LayerTree::updateAllTotals);
}

void LayerTree::onCurrentItemChanged(QTreeWidgetItem* item) {
  if (populating_ || !item) return;
  const int layer = item->data(0, kLayerRole).toInt();
  const QVariant head = item->data(0, kHeadRole);
  const QVariant first = item->data(0, kFirstRole);
  if (head.isValid()) {
    emit headRequested(layer, head.toInt());
  } else if (item->data(0, kTotalRole).toBool()) {
    emit layerTotalRequested(layer);
  } else if (first.isValid()) {
    emit groupRequested(layer, first.toInt(), item->data(0, kLastRole).toInt());
  } else {
    // A layer item: the same head in another layer, when it has one.
    const int h = layer == selection_->layer() ? selection_->head() : 0;
    emit headRequested(layer, std::clamp(h, 0, std::max(0, document_->headCount(layer) - 1)));
  }
}

void LayerTree::followSelection() {
  // Keep the tree in step without re-entering.
  populating_ = true;
  if (QTreeWidgetItem* item = itemFor(selection_->layer(), selection_->first(), selection_->last(),
                                      selection_->isAggregate(), selection_->isLayerTotal()))
    setCurrentItem(item);
  populating_ = false;
}

void LayerTree::populate() {
  populating_ = true;
  clear();
  const ess::SourceInfo& info = document_->info();
  for (const ess::LayerSummary& l : info.layers) {
    const QString noun = viewdata::unitNoun(info, l.index);
    const QString nouns = viewdata::unitNoun(info, l.index, true);
    auto* item = new QTreeWidgetItem(this);
    item->setText(0, tr("layer %1: %2 (%3 %4)")
                         .arg(l.index)
                         .arg(QString::fromStdString(l.mixer))
                         .arg(l.heads)
                         .arg(l.heads == 1 ? noun : nouns));
    item->setData(0, kLayerRole, l.index);
    QString tip = tr("mixer %1, %2 %3").arg(QString::fromStdString(l.mixer)).arg(l.heads).arg(nouns);
    if (l.valueChannels > 1) tip += tr(", %1 value channels per head").arg(l.valueChannels);
    if (!l.tss.empty()) tip += tr("\ntheoretical state size per %1: %2").arg(noun, QString::fromStdString(l.tss));
    item->setToolTip(0, tip);

    // The layer total: every head summed, each times its value channels.
    auto* total = new QTreeWidgetItem(item);
    total->setData(0, kLayerRole, l.index);
    total->setData(0, kFirstRole, 0);
    total->setData(0, kLastRole, l.heads - 1);
    total->setData(0, kTotalRole, true);
    QFont bold = total->font(0);
    bold.setBold(true);
    total->setFont(0, bold);

    auto addHead = [&](QTreeWidgetItem* parent, int h) {
      auto* child = new QTreeWidgetItem(parent);
      child->setText(0, tr("%1 %2").arg(noun).arg(h));
      child->setData(0, kLayerRole, l.index);
      child->setData(0, kHeadRole, h);
    };
    const std::vector<ess::ChannelGroup> groups = viewdata::groupsOf(info, l.index);
    if (groups.empty()) {
      for (int h = 0; h < l.heads; ++h) addHead(item, h);
    } else {
      for (const ess::ChannelGroup& g : groups) {
        auto* group = new QTreeWidgetItem(item);
        group->setText(0, QString::fromStdString(g.label));
        group->setData(0, kLayerRole, l.index);
        group->setData(0, kFirstRole, g.first);
        group->setData(0, kLastRole, g.last);
        group->setToolTip(0, tr("%1 summed (each times %2 value channel(s)); expand for single %3")
                                 .arg(QString::fromStdString(g.label))
                                 .arg(l.valueChannels)
                                 .arg(nouns));
        for (int h = g.first; h <= g.last; ++h) addHead(group, h);
      }
    }
    updateTotals(l.index);
  }
  expandToDepth(0);  // layers open, channel groups closed
  populating_ = false;
}

void LayerTree::updateAllTotals() {
  for (int l = 0; l < document_->layerCount(); ++l) updateTotals(l);
}

void LayerTree::updateTotals(int layer) {
  QTreeWidgetItem* item = itemFor(layer, 0, document_->headCount(layer) - 1, true, true);
  if (!item) return;
  ess::HeadTotal t;
  if (!document_->total(layer, 0, document_->headCount(layer) - 1, &t)) {
    item->setText(0, tr("layer total"));
    item->setToolTip(0, tr("Every %1 summed, each times its value channels (computing…)")
                            .arg(viewdata::unitNoun(document_->info(), layer)));
    return;
  }
  const auto num = [](double v) {
    return std::isfinite(v) ? QString::number(v, 'f', v < 100 ? 1 : 0) : QStringLiteral("?");
  };
  const double u = t.utilizationSummary.mean;
  QString text = tr("layer total: ESS %1 / TSS %2").arg(num(t.toleranceSummary.mean), num(t.tssSummary.mean));
  if (std::isfinite(u)) text += tr(", mean utilization %1 %").arg(100.0 * u, 0, 'f', 1);
  item->setText(0, text);
  item->setToolTip(
      0, tr("Layer total, means over %1 splits: tolerance-ESS %2, entropy-ESS %3, theoretical state "
            "size %4, utilization %5\nEvery %6 summed, each times %7 value channel(s) (MIMO units)")
             .arg(t.splits.size())
             .arg(t.toleranceSummary.mean, 0, 'g', 5)
             .arg(t.entropySummary.mean, 0, 'g', 5)
             .arg(t.tssSummary.mean, 0, 'g', 5)
             .arg(std::isfinite(u) ? QString::number(100.0 * u, 'f', 2) + QStringLiteral(" %") : tr("unknown"))
             .arg(viewdata::unitNoun(document_->info(), layer))
             .arg(t.valueChannels));
}

QTreeWidgetItem* LayerTree::itemFor(int layer, int first, int last, bool aggregate, bool total) const {
  QTreeWidgetItem* top = topLevelItem(layer);
  if (!top) return nullptr;
  std::function<QTreeWidgetItem*(QTreeWidgetItem*)> find = [&](QTreeWidgetItem* parent) -> QTreeWidgetItem* {
    for (int i = 0; i < parent->childCount(); ++i) {
      QTreeWidgetItem* c = parent->child(i);
      if (total && c->data(0, kTotalRole).toBool()) return c;
      if (!total && !aggregate && c->data(0, kHeadRole).isValid() && c->data(0, kHeadRole).toInt() == first) return c;
      if (!total && aggregate && !c->data(0, kTotalRole).toBool() && c->data(0, kFirstRole).isValid() &&
          c->data(0, kFirstRole).toInt() == first && c->data(0, kLastRole).toInt() == last)
        return c;
      if (QTreeWidgetItem* below = find(c)) return below;
    }
    return nullptr;
  };
  return find(top);
}
