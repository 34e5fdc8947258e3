#include "grid_panels.h"

#include "ess/view_policy.h"
#include "view_data.h"

namespace viewdata {

QVector<GridPanel> gridPanels(ess::Session& session, const std::vector<int>& layers,
                              const std::vector<std::vector<int>>& heads, GridFigureView::Kind kind,
                              const ess::EssOptions& options, int maxSamples) {
  const ess::SourceInfo& info = session.info();
  const int length = info.length > 0 ? info.length : static_cast<int>(session.tokens().size());
  QVector<GridPanel> panels;
  for (size_t row = 0; row < layers.size() && row < heads.size(); ++row) {
    const int layer = layers[row];
    const ess::LayerSummary& summary = info.layers.at(layer);
    const QString noun = unitNoun(info, layer);
    const bool tiled = ess::isTiledLayer(info.architecture, summary.heads, length, session.memoryBudget());
    ess::OperatorData op;
    ess::CurveData curve;
    if (kind == GridFigureView::Kind::Heatmap && !tiled) op = session.operatorOf(layer);
    if (kind == GridFigureView::Kind::Curve) curve = session.curve(layer, options);
    for (size_t column = 0; column < heads[row].size(); ++column) {
      const int head = heads[row][column];
      GridPanel p;
      p.row = static_cast<int>(row);
      p.column = static_cast<int>(column);
      p.layer = layer;
      p.head = head;
      p.title = QStringLiteral("layer %1, %2 %3").arg(layer).arg(noun).arg(head);
      p.shortTitle = QStringLiteral("L%1 %2%3").arg(layer).arg(noun.left(1).toUpper()).arg(head);
      if (kind == GridFigureView::Kind::Curve) {
        p.series = series(curve, head);
      } else if (tiled) {
        ess::TileRequest request;
        request.maxRows = request.maxColumns = maxSamples;
        p.length = length;
        p.tile = tileOf(session.operatorTile(layer, head, request));
      } else {
        p.length = op.length;
        p.tile.rows = p.tile.columns = op.length;
        p.tile.values = headValues(op, head);
      }
      panels.append(p);
    }
  }
  return panels;
}

}  // namespace viewdata
