// Aggregates of ESS curves: totals over heads in MIMO units, utilization, channel groups.
#include "ess/aggregate.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ess/error.h"

namespace ess {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void checkHead(const CurveData& curve, int head) {
  const int heads = static_cast<int>(curve.tolerance.size());
  if (head < 0 || head >= heads)
    throw UsageError("head " + std::to_string(head) + " is outside 0.." + std::to_string(heads - 1) + " (layer " +
                     std::to_string(curve.layer) + ")");
  const size_t n = curve.splits.size();
  if (curve.tolerance[head].size() != n || head >= static_cast<int>(curve.entropy.size()) ||
      curve.entropy[head].size() != n || head >= static_cast<int>(curve.tss.size()) || curve.tss[head].size() != n)
    throw UsageError("layer " + std::to_string(curve.layer) + ": the curve of head " + std::to_string(head) +
                     " does not have one value per split");
}

double ratio(double num, double den) {
  if (!std::isfinite(num) || !std::isfinite(den) || den <= 0) return kNaN;
  return num / den;
}

}  // namespace

CurveSummary summarizeCurve(const std::vector<double>& values) {
  CurveSummary s{kNaN, kNaN, kNaN};
  double sum = 0;
  long count = 0;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    sum += v;
    ++count;
    s.max = std::isnan(s.max) ? v : std::max(s.max, v);
  }
  if (count > 0) s.mean = sum / double(count);
  if (!values.empty() && std::isfinite(values.back())) s.final = values.back();
  return s;
}

HeadTotal sumHeads(const CurveData& curve, const LayerSummary& layer, const std::vector<int>& heads) {
  if (heads.empty()) throw UsageError("layer " + std::to_string(curve.layer) + ": no heads to sum");
  HeadTotal t;
  t.layer = curve.layer;
  t.heads = heads;
  std::sort(t.heads.begin(), t.heads.end());
  t.heads.erase(std::unique(t.heads.begin(), t.heads.end()), t.heads.end());
  t.valueChannels = std::max(1, layer.valueChannels);
  t.splits = curve.splits;
  const size_t n = curve.splits.size();
  t.tolerance.assign(n, 0.0);
  t.entropy.assign(n, 0.0);
  t.tss.assign(n, 0.0);
  const double dv = t.valueChannels;
  for (int h : t.heads) {
    checkHead(curve, h);
    for (size_t i = 0; i < n; ++i) {
      t.tolerance[i] += dv * curve.tolerance[h][i];
      t.entropy[i] += dv * curve.entropy[h][i];
      t.tss[i] += dv * curve.tss[h][i];  // NaN (unknown) stays NaN
    }
  }
  t.utilization.resize(n);
  t.entropyUtilization.resize(n);
  for (size_t i = 0; i < n; ++i) {
    t.utilization[i] = ratio(t.tolerance[i], t.tss[i]);
    t.entropyUtilization[i] = ratio(t.entropy[i], t.tss[i]);
  }
  t.toleranceSummary = summarizeCurve(t.tolerance);
  t.entropySummary = summarizeCurve(t.entropy);
  t.tssSummary = summarizeCurve(t.tss);
  t.utilizationSummary = summarizeCurve(t.utilization);
  return t;
}

HeadTotal layerTotal(const CurveData& curve, const LayerSummary& layer) {
  std::vector<int> heads(curve.tolerance.size());
  for (size_t h = 0; h < heads.size(); ++h) heads[h] = static_cast<int>(h);
  return sumHeads(curve, layer, heads);
}

HeadSummary summarizeHead(const CurveData& curve, int head) {
  checkHead(curve, head);
  HeadSummary s;
  s.head = head;
  s.tolerance = summarizeCurve(curve.tolerance[head]);
  s.entropy = summarizeCurve(curve.entropy[head]);
  s.tss = summarizeCurve(curve.tss[head]);
  std::vector<double> u(curve.splits.size());
  for (size_t i = 0; i < u.size(); ++i) u[i] = ratio(curve.tolerance[head][i], curve.tss[head][i]);
  s.utilization = summarizeCurve(u);
  return s;
}

std::vector<HeadSummary> summarizeHeads(const CurveData& curve) {
  std::vector<HeadSummary> out;
  for (int h = 0; h < static_cast<int>(curve.tolerance.size()); ++h) out.push_back(summarizeHead(curve, h));
  return out;
}

std::vector<int> ChannelGroup::members() const {
  std::vector<int> m;
  for (int c = first; c <= last; ++c) m.push_back(c);
  return m;
}

int defaultGroupSize(int count, int maxGroups) {
  if (count <= 0) return 1;
  maxGroups = std::max(1, maxGroups);
  return std::max(1, (count + maxGroups - 1) / maxGroups);
}

std::vector<ChannelGroup> channelGroups(int count, int groupSize, int maxGroups, const std::string& noun) {
  std::vector<ChannelGroup> groups;
  if (count <= 0) return groups;
  if (groupSize <= 0) groupSize = defaultGroupSize(count, maxGroups);
  std::string singular = noun;
  if (!singular.empty() && singular.back() == 's') singular.pop_back();
  for (int first = 0; first < count; first += groupSize) {
    ChannelGroup g;
    g.first = first;
    g.last = std::min(count, first + groupSize) - 1;
    g.label = g.first == g.last ? singular + " " + std::to_string(g.first)
                                : noun + " " + std::to_string(g.first) + "-" + std::to_string(g.last);
    groups.push_back(g);
  }
  return groups;
}

std::vector<double> meanAbsOperator(const OperatorData& op, const std::vector<int>& heads) {
  if (heads.empty()) throw UsageError("mean |T|: no heads given");
  const size_t block = static_cast<size_t>(op.length) * op.length;
  std::vector<double> out(block, 0.0);
  for (int h : heads) {
    if (h < 0 || h >= op.heads)
      throw UsageError("head " + std::to_string(h) + " is outside 0.." + std::to_string(op.heads - 1));
    const double* src = op.values.data() + static_cast<size_t>(h) * block;
    for (size_t i = 0; i < block; ++i) out[i] += std::abs(src[i]);
  }
  const double scale = 1.0 / double(heads.size());
  for (double& v : out) v *= scale;
  return out;
}

}  // namespace ess
