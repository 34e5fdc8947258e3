// The panels of the multi-panel figure (`ess render --figure grid`, GridFigureView) from a
// session: a row per layer, a column per head, each T[head] (heatmaps) or its ESS curve.
#pragma once
#include <QVector>
#include <vector>

#include "ess/session.h"
#include "grid_figure_view.h"

namespace viewdata {

/// One panel per (layer, head): `layers[i]` is row i, `heads[i]` its heads (column j holds
/// heads[i][j]). Heatmaps hold T[head] of the session's input, every entry, or for a layer
/// too long for a dense operator (ess::isTiledLayer) a point-sampled overview of at most
/// `maxSamples` rows and columns (ess::Session::operatorTile). Curves hold the ESS curve of the
/// head (ess::Session::curve with `options`). Titles: "layer L, head H" and "L{L} H{H}" (or
/// "channel" for layers of SISO channels, viewdata::unitNoun). Throws what the session throws
/// (ess::InputError, ess::UsageError).
QVector<GridPanel> gridPanels(ess::Session& session, const std::vector<int>& layers,
                              const std::vector<std::vector<int>>& heads, GridFigureView::Kind kind,
                              const ess::EssOptions& options, int maxSamples = 512);

}  // namespace viewdata
