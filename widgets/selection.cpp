#include "selection.h"

#include <algorithm>

Selection::Selection(QObject* parent) : QObject(parent) {}

void Selection::setLayers(const QVector<int>& headsPerLayer) {
  heads_ = headsPerLayer;
  kind_ = Kind::None;
  layer_ = first_ = last_ = -1;
}

bool Selection::selectHead(int layer, int head) { return select(Kind::Head, layer, head, head); }

bool Selection::selectGroup(int layer, int first, int last) { return select(Kind::Group, layer, first, last); }

bool Selection::selectLayerTotal(int layer) {
  return select(Kind::LayerTotal, layer, 0, std::max(0, headCount(layer) - 1));
}

bool Selection::select(Kind kind, int layer, int first, int last) {
  if (layer < 0 || layer >= heads_.size()) return false;
  if (first < 0 || last < first || last >= heads_[layer]) return false;
  const int previous = layer_;
  kind_ = kind;
  layer_ = layer;
  first_ = first;
  last_ = last;
  emit changed(previous);
  return true;
}
