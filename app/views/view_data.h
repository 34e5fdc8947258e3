// Conversions from the core's plain results (ess/session.h, ess/aggregate.h) to the views' Qt
// data (esswidgets), shared by the GUI and `ess render` (library essviews): head curves, layer and channel-group
// totals (each head times its value channels), channel grouping of layers with many SISO
// channels, and the layer comparison (bars of totals plus the per-head or per-group grid).
#pragma once
#include <QStringList>
#include <QVector>
#include <vector>

#include "ess/aggregate.h"
#include "ess/session.h"
#include "ess_curve_view.h"
#include "heatmap_view.h"
#include "layer_comparison_view.h"
#include "position_ess_view.h"
#include "selection.h"
#include "spectrum_view.h"

namespace viewdata {

/// Layers with more heads or channels than this are shown as channel groups (tree, grid).
constexpr int kMaxFlatHeads = 16;

/// Row-major L x L values of head `head` of `op`.
QVector<double> headValues(const ess::OperatorData& op, int head);

/// A sampled tile of an operator (ess::Session::operatorTile) as the heatmap's HeatmapTile.
HeatmapTile tileOf(const ess::OperatorTile& tile);

/// The curve of head `head` as a series named "head H" (or `name` when given).
EssSeries series(const ess::CurveData& curve, int head, const QString& name = QString());

/// A total over heads (ess::sumHeads) as a series named `name`, with its utilization.
EssSeries totalSeries(const ess::HeadTotal& total, const QString& name);

/// Mean tolerance-ESS (or any [H][S] table) over splits, one value per head.
QVector<double> meanPerHead(const std::vector<std::vector<double>>& perHead);

/// What one SISO operator of a layer is called: "channel" for a model layer whose operators
/// each act on one value channel (short_conv, lti_ssm, hyena, ...), "head" otherwise.
QString unitNoun(const ess::SourceInfo& info, int layer, bool plural = false);

/// The channel groups the tree and the layer grid show for `layer`; empty when the layer has
/// at most kMaxFlatHeads heads (shown one by one). Labels like "channels 0-7".
std::vector<ess::ChannelGroup> groupsOf(const ess::SourceInfo& info, int layer);

/// One layer's bars for the layer comparison: means over splits of its totals.
LayerTotals layerTotals(const ess::CurveData& curve, const ess::LayerSummary& layer);

/// Fills the layer comparison: bars of every layer's totals and the grid of mean tolerance-ESS
/// per head (per channel group, the mean over its channels, for grouped layers). `curves[l]`
/// may be null (not computed yet: NaN bars and cells). `title` empty: a default.
void fillLayerView(LayerComparisonView& view, const ess::SourceInfo& info,
                   const std::vector<const ess::CurveData*>& curves, const QString& title = QString());

/// Token labels (ess::Session::tokenLabels) as Qt strings.
QStringList labelsOf(const std::vector<std::string>& labels);

/// The ESS-over-position rows of every layer's total (each head times its value channels,
/// ess::sumHeads), one row per layer whose curve is given (`curves[l]` may be null: skipped).
QVector<PositionRow> layerTotalRows(const ess::SourceInfo& info, const std::vector<const ess::CurveData*>& curves);

/// The delimiters the position view marks unless told otherwise: newline and the common
/// end-of-sequence pieces (the "mark tokens:" field's syntax, PositionEssView::parseMarks).
inline constexpr char kDefaultMarks[] = "\\n, <eos>, </s>, <|endoftext|>, <|end_of_text|>, <|eot_id|>, <|im_end|>";

/// Compare (checkpoint A pinned, B open): why A and B cannot be compared, naming both
/// (ess::layoutMismatch: layers, heads per layer, L for the input). Empty when they agree.
QString layoutMismatch(const ess::SourceInfo& a, int lengthA, const QString& nameA, const ess::SourceInfo& b,
                       int lengthB, const QString& nameB);

/// T_B - T_A of head `head`, row-major [L, L]; a and b have the same heads and L
/// (layoutMismatch() is empty), else std::invalid_argument.
QVector<double> headDifference(const ess::OperatorData& a, const ess::OperatorData& b, int head);

/// The spectrum view's threshold reference for a normalization.
SpectrumView::Reference reference(ess::Normalization n);
/// The tolerance threshold of singular values `sigma` and the count above it, for the spectrum
/// view (ess::toleranceCut at the options' tolerance and normalization).
SpectrumCut cutOf(const std::vector<double>& sigma, const ess::EssOptions& options);

/// Column of the layer comparison's grid that holds the selection: its head, or the channel
/// group holding its first head in a grouped layer; -1 for the layer total, a group of an
/// ungrouped layer, or no selection.
int gridColumn(const ess::SourceInfo& info, const Selection& selection);

/// Inputs made of text (text:..., textfile:...) label the heatmap's axes with their tokens;
/// token-id inputs (MQAR, tokens:, random:) keep position numbers there (ids in the hover).
bool isTextInput(const QString& spec);

/// Marks the key, value and query positions of an MQAR input (`mqar:...`, ess::mqarRoles) on
/// `view`, and clears them for any other input or an operator file (info.needsInput false).
void markMqarRoles(PositionEssView& view, const std::string& spec, const ess::SourceInfo& info);

}  // namespace viewdata
