// Aggregates of ESS curves (docs/definitions.md section 1): a layer's (or a channel group's) total ESS
// and total theoretical state size per split, the utilization ESS / TSS, mean / max / final
// values over splits, and contiguous channel groups for layers with many SISO channels.
// Plain C++ on plain data (ess/curve.h, ess/source_info.h; no LibTorch, no Qt): the GUI and the CLI share it.
//
// Units. CurveData holds one SISO operator per head: tolerance[h][i], entropy[h][i] and
// tss[h][i] are per head in SISO units (the TSS divided by the value channels the head operator
// is applied to). A head operator shared by d_v = LayerSummary::valueChannels channels has MIMO
// rank d_v times its SISO rank, so a total multiplies every head by d_v:
//   total ESS(s) = sum_h d_v * ESS_h(s),   total TSS(s) = sum_h d_v * TSS_h(s).
// Linear attention (2 heads, d_k = d_v = 32): per head TSS 32*32 = 1024, SISO 32; the layer
// total TSS is 2 * 32 * 32 = 2048. short_conv (64 channels, d_v = 1, k = 4): per channel TSS
// 3, total 64 * 3 = 192. Utilization = total tolerance-ESS / total TSS (unit-free).
#pragma once
#include <string>
#include <vector>

#include "ess/curve.h"
#include "ess/operator_data.h"
#include "ess/source_info.h"

namespace ess {

/// Mean, maximum and final value (at the last split) of one curve over its splits.
/// NaN entries are skipped by mean and max; each field is NaN when no entry is finite
/// (final: when the last entry is NaN).
struct CurveSummary {
  double mean;
  double max;
  double final;
};
CurveSummary summarizeCurve(const std::vector<double>& values);

/// The summed curves of a set of heads of one layer, in MIMO units (each head times d_v).
struct HeadTotal {
  int layer = 0;
  std::vector<int> heads;                  ///< the heads summed, ascending
  int valueChannels = 1;                   ///< d_v each head was multiplied by
  std::vector<int> splits;                 ///< as in the CurveData
  std::vector<double> tolerance;           ///< sum_h d_v * tolerance[h][i]
  std::vector<double> entropy;             ///< sum_h d_v * entropy[h][i]
  std::vector<double> tss;                 ///< sum_h d_v * tss[h][i]; NaN where any head's TSS is unknown
  std::vector<double> utilization;         ///< tolerance[i] / tss[i]; NaN where the TSS is unknown or 0
  std::vector<double> entropyUtilization;  ///< entropy[i] / tss[i], NaN likewise
  /// Mean / max / final over splits. utilizationSummary.mean is the mean of the per-split
  /// utilizations (not the ratio of the means).
  CurveSummary toleranceSummary, entropySummary, tssSummary, utilizationSummary;
};

/// Sums `heads` of `curve` (a layer with `layer.valueChannels` value channels per head).
/// Throws UsageError when `heads` is empty or names a head outside 0..H-1 of the curve, or
/// when the curve's tables do not have one row per head and one column per split.
HeadTotal sumHeads(const CurveData& curve, const LayerSummary& layer, const std::vector<int>& heads);
/// Sums every head of the layer: its total ESS and total TSS (docs/definitions.md section 1).
HeadTotal layerTotal(const CurveData& curve, const LayerSummary& layer);

/// Mean / max / final over splits of one head, in SISO units as CurveData holds them
/// (multiply tolerance, entropy and tss by valueChannels for MIMO units; utilization is the
/// same in both). Throws UsageError for a head outside the curve.
struct HeadSummary {
  int head = 0;
  CurveSummary tolerance, entropy, tss, utilization;
};
HeadSummary summarizeHead(const CurveData& curve, int head);
/// summarizeHead for every head of the curve.
std::vector<HeadSummary> summarizeHeads(const CurveData& curve);

/// A contiguous group of heads or channels first..last (inclusive) with a label such as
/// "channels 0-7" (or "channel 5" for a group of one).
struct ChannelGroup {
  int first = 0;
  int last = 0;
  std::string label;
  int size() const { return last - first + 1; }
  std::vector<int> members() const;
};

/// The group size channelGroups() uses by default: the smallest size that leaves at most
/// `maxGroups` groups of `count` channels (128 channels, 16 groups: 8). At least 1.
int defaultGroupSize(int count, int maxGroups = 16);

/// Splits `count` channels into contiguous groups of `groupSize` (the last may be smaller);
/// `groupSize` <= 0 takes defaultGroupSize(count, maxGroups). `noun` is the plural used in the
/// labels ("channels" -> "channels 0-7"; its singular drops a trailing "s": "channel 5").
/// Empty for count <= 0.
std::vector<ChannelGroup> channelGroups(int count, int groupSize = 0, int maxGroups = 16,
                                        const std::string& noun = "channels");

/// Mean |T[h, r, c]| over `heads` of `op`: row-major [L, L] values, a summary picture of a
/// channel group for heatmaps. Throws UsageError for an empty list or a head outside 0..H-1.
std::vector<double> meanAbsOperator(const OperatorData& op, const std::vector<int>& heads);

}  // namespace ess
