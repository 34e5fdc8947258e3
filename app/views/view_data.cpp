#include "view_data.h"

#include <cmath>
#include <exception>
#include <limits>
#include <stdexcept>

#include "ess/mqar_sample.h"
#include "ess/view_policy.h"

namespace viewdata {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

QVector<double> toQ(const std::vector<double>& v) { return QVector<double>(v.begin(), v.end()); }
}  // namespace

QVector<double> headValues(const ess::OperatorData& op, int head) {
  const size_t block = static_cast<size_t>(op.length) * op.length;
  const auto begin = op.values.begin() + static_cast<std::ptrdiff_t>(head * block);
  return QVector<double>(begin, begin + static_cast<std::ptrdiff_t>(block));
}

HeatmapTile tileOf(const ess::OperatorTile& tile) {
  HeatmapTile t;
  t.firstRow = tile.firstRow;
  t.firstColumn = tile.firstColumn;
  t.rowStep = tile.rowStep;
  t.columnStep = tile.columnStep;
  t.rows = tile.rows;
  t.columns = tile.columns;
  t.values = QVector<double>(tile.values.begin(), tile.values.end());
  return t;
}

QString layoutMismatch(const ess::SourceInfo& a, int lengthA, const QString& nameA, const ess::SourceInfo& b,
                       int lengthB, const QString& nameB) {
  return QString::fromStdString(ess::layoutMismatch(a, lengthA, nameA.toStdString(), b, lengthB, nameB.toStdString()));
}

QVector<double> headDifference(const ess::OperatorData& a, const ess::OperatorData& b, int head) {
  if (a.length != b.length || a.heads != b.heads || head < 0 || head >= a.heads)
    throw std::invalid_argument("headDifference: operators of different layouts");
  QVector<double> va = headValues(a, head), vb = headValues(b, head);
  for (int i = 0; i < vb.size(); ++i) vb[i] -= va[i];
  return vb;
}

EssSeries series(const ess::CurveData& curve, int head, const QString& name) {
  EssSeries s;
  s.name = name.isEmpty() ? QStringLiteral("head %1").arg(head) : name;
  for (size_t i = 0; i < curve.splits.size(); ++i) {
    s.splits << curve.splits[i];
    s.tolerance << curve.tolerance[head][i];
    s.entropy << curve.entropy[head][i];
    s.tss << curve.tss[head][i];
  }
  return s;
}

EssSeries totalSeries(const ess::HeadTotal& total, const QString& name) {
  EssSeries s;
  s.name = name;
  for (int split : total.splits) s.splits << split;
  s.tolerance = toQ(total.tolerance);
  s.entropy = toQ(total.entropy);
  s.tss = toQ(total.tss);
  s.utilization = toQ(total.utilization);
  return s;
}

QVector<double> meanPerHead(const std::vector<std::vector<double>>& perHead) {
  QVector<double> means;
  for (const auto& row : perHead) {
    double sum = 0;
    for (double v : row) sum += v;
    means << (row.empty() ? std::nan("") : sum / row.size());
  }
  return means;
}

QString unitNoun(const ess::SourceInfo& info, int layer, bool plural) {
  bool channel = false;
  if (layer >= 0 && layer < int(info.layers.size())) {
    const ess::LayerSummary& l = info.layers[layer];
    channel = info.needsInput && l.valueChannels == 1 && l.heads > 1;
  }
  if (channel) return plural ? QStringLiteral("channels") : QStringLiteral("channel");
  return plural ? QStringLiteral("heads") : QStringLiteral("head");
}

std::vector<ess::ChannelGroup> groupsOf(const ess::SourceInfo& info, int layer) {
  if (layer < 0 || layer >= int(info.layers.size()) || info.layers[layer].heads <= kMaxFlatHeads) return {};
  return ess::channelGroups(info.layers[layer].heads, 0, kMaxFlatHeads, unitNoun(info, layer, true).toStdString());
}

LayerTotals layerTotals(const ess::CurveData& curve, const ess::LayerSummary& layer) {
  const ess::HeadTotal t = ess::layerTotal(curve, layer);
  LayerTotals out;
  out.label = QStringLiteral("%1: %2").arg(layer.index).arg(QString::fromStdString(layer.mixer));
  out.tolerance = t.toleranceSummary.mean;
  out.entropy = t.entropySummary.mean;
  out.tss = t.tssSummary.mean;
  out.utilization = t.utilizationSummary.mean;
  return out;
}

void fillLayerView(LayerComparisonView& view, const ess::SourceInfo& info,
                   const std::vector<const ess::CurveData*>& curves, const QString& title) {
  QStringList labels;
  QVector<QVector<double>> grid;
  QVector<QStringList> columns;
  QVector<LayerTotals> totals;
  bool anyGrouped = false;
  for (int l = 0; l < int(info.layers.size()); ++l) {
    const ess::LayerSummary& layer = info.layers[l];
    const ess::CurveData* c = l < int(curves.size()) ? curves[l] : nullptr;
    labels << QStringLiteral("%1: %2").arg(layer.index).arg(QString::fromStdString(layer.mixer));
    const std::vector<ess::ChannelGroup> groups = groupsOf(info, l);
    anyGrouped = anyGrouped || !groups.empty();
    const QVector<double> perHead = c ? meanPerHead(c->tolerance) : QVector<double>(layer.heads, kNaN);
    QVector<double> row;
    QStringList names;
    if (groups.empty()) {
      row = perHead;
      for (int h = 0; h < perHead.size(); ++h) names << QString::number(h);
    } else {
      for (const ess::ChannelGroup& g : groups) {
        double sum = 0;
        for (int h = g.first; h <= g.last; ++h) sum += perHead.value(h, kNaN);
        row << sum / g.size();
        names << QString::fromStdString(g.label);
      }
    }
    grid << row;
    columns << names;
    LayerTotals t;
    if (c) {
      t = layerTotals(*c, layer);
    } else {
      t.label = labels.last();
      t.tolerance = t.entropy = t.tss = t.utilization = kNaN;
    }
    totals << t;
  }
  const QString cellWhat = anyGrouped ? QStringLiteral("per head or channel group") : QStringLiteral("per head");
  view.setData(labels, grid, QStringLiteral("mean tolerance-ESS"),
               title.isEmpty() ? QStringLiteral("Layer totals (each head x its value channels) and mean "
                                                "tolerance-ESS %1")
                                     .arg(cellWhat)
                               : title,
               columns);
  view.setTotals(totals);
}

SpectrumCut cutOf(const std::vector<double>& sigma, const ess::EssOptions& options) {
  const ess::ToleranceCut cut = ess::toleranceCut(sigma, options.tolerance_, options.normalization_);
  return {cut.threshold, cut.count};
}

SpectrumView::Reference reference(ess::Normalization n) {
  switch (n) {
    case ess::Normalization::Sum:
      return SpectrumView::Reference::Sum;
    case ess::Normalization::None:
      return SpectrumView::Reference::None;
    default:
      return SpectrumView::Reference::Max;
  }
}

QStringList labelsOf(const std::vector<std::string>& labels) {
  QStringList out;
  out.reserve(int(labels.size()));
  for (const std::string& l : labels) out << QString::fromStdString(l);
  return out;
}

QVector<PositionRow> layerTotalRows(const ess::SourceInfo& info, const std::vector<const ess::CurveData*>& curves) {
  QVector<PositionRow> rows;
  for (int l = 0; l < int(curves.size()) && l < int(info.layers.size()); ++l) {
    if (!curves[l]) continue;
    std::vector<int> heads;
    for (int h = 0; h < int(curves[l]->tolerance.size()); ++h) heads.push_back(h);
    const ess::HeadTotal t = ess::sumHeads(*curves[l], info.layers[l], heads);
    rows.append({l, totalSeries(t, QStringLiteral("layer %1 total").arg(l))});
  }
  return rows;
}

int gridColumn(const ess::SourceInfo& info, const Selection& selection) {
  if (!selection.isValid() || selection.isLayerTotal()) return -1;
  const std::vector<ess::ChannelGroup> groups = groupsOf(info, selection.layer());
  if (groups.empty()) return selection.isAggregate() ? -1 : selection.head();
  for (int i = 0; i < int(groups.size()); ++i)
    if (selection.head() >= groups[i].first && selection.head() <= groups[i].last) return i;
  return -1;
}

bool isTextInput(const QString& spec) { return ess::isTextInput(spec.toStdString()); }

void markMqarRoles(PositionEssView& view, const std::string& spec, const ess::SourceInfo& info) {
  ess::MqarSpec mqar;
  ess::MqarRoles roles;
  try {
    if (info.needsInput && ess::mqarSpecOf(spec, info.vocabSize, info.maxLength, &mqar)) roles = ess::mqarRoles(mqar);
  } catch (const std::exception&) {
    // The session accepted this input, so it parses; were it not to, no roles are drawn.
  }
  const auto toQt = [](const std::vector<int>& v) { return QVector<int>(v.begin(), v.end()); };
  view.setPositionRoles(toQt(roles.keys), toQt(roles.values), toQt(roles.queries));
}

}  // namespace viewdata
