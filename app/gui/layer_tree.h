// LayerTree: the side panel's tree of the opened file's layers, each with its layer total (ESS /
// TSS / utilization once the layer's curve is there), its heads or channels, and for layers
// with many channels their channel groups. It builds itself from the Document's SourceInfo,
// follows the Selection, and emits selection intent when the user picks an item.
#pragma once
#include <QTreeWidget>

class Document;
class Selection;

class LayerTree : public QTreeWidget {
  Q_OBJECT
 public:
  LayerTree(Document* document, Selection* selection, QWidget* parent = nullptr);

  /// Rebuilds the tree from the document's layers (layers open, channel groups closed).
  void populate();
  /// The item of the selection's kind and heads in `layer` (null when the tree has none).
  QTreeWidgetItem* itemFor(int layer, int first, int last, bool aggregate, bool total) const;

 signals:
  void headRequested(int layer, int head);
  void groupRequested(int layer, int first, int last);
  void layerTotalRequested(int layer);

 private:
  /// The layer total's text: its ESS, TSS and utilization, or "computing" without a curve.
  void updateTotals(int layer);
  void updateAllTotals();
  void followSelection();
  void onCurrentItemChanged(QTreeWidgetItem* item);

  Document* document_;
  Selection* selection_;
  bool populating_ = false;  // our own changes of the current item are not user intent
};
