// Selection: what the views show, beside the SplitPoint: one layer and exactly one of a head, a
// channel group (heads first..last summed) or the layer total (every head summed). Presenters
// observe it; the layer tree, the layer comparison and the window's slots ask for changes.
#pragma once
#include <QObject>
#include <QVector>

class Selection : public QObject {
  Q_OBJECT
 public:
  enum class Kind { None, Head, Group, LayerTotal };

  explicit Selection(QObject* parent = nullptr);

  Kind kind() const { return kind_; }
  bool isValid() const { return kind_ != Kind::None; }
  /// The selected layer; -1 when nothing is selected.
  int layer() const { return layer_; }
  /// The head shown: the selected head, or the first head of a group or of the layer total
  /// (whose heatmap and spectrum stand for it); -1 when nothing is selected.
  int head() const { return first_; }
  /// The heads of the selection, first..last inclusive (a head: first == last == head()).
  int first() const { return first_; }
  int last() const { return last_; }
  /// A channel group or the layer total: curves summed over heads, mean |T| as the heatmap.
  bool isAggregate() const { return kind_ == Kind::Group || kind_ == Kind::LayerTotal; }
  bool isLayerTotal() const { return kind_ == Kind::LayerTotal; }

  /// The head count of each layer that selections are checked against; clears the selection
  /// without emitting changed() (a new document: whoever opened it selects again).
  void setLayers(const QVector<int>& headsPerLayer);
  int headCount(int layer) const { return layer >= 0 && layer < heads_.size() ? heads_[layer] : 0; }

 public slots:
  /// Each returns false (and changes nothing) when the layer or heads are out of range; on
  /// success changed() is emitted, also when the selection was already this one (selecting
  /// again re-shows it and asks for what is missing).
  bool selectHead(int layer, int head);
  bool selectGroup(int layer, int first, int last);
  bool selectLayerTotal(int layer);

 signals:
  /// `previousLayer`: the layer selected before (-1: none), so views can drop what belongs to it.
  void changed(int previousLayer);

 private:
  bool select(Kind kind, int layer, int first, int last);

  QVector<int> heads_;
  Kind kind_ = Kind::None;
  int layer_ = -1;
  int first_ = -1;
  int last_ = -1;
};
