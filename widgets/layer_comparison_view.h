// LayerComparisonView: one number per layer and head at once (the mean tolerance-ESS over
// splits, say) as a grid: layers as rows (layer 0 at the top), heads as columns, each cell
// labelled with its value. Layers with fewer heads leave cells empty. Clicking a cell emits
// headActivated(layer, head).
#pragma once
#include <QStringList>
#include <QVector>

#include "plot_view.h"

class LayerComparisonView : public PlotView {
  Q_OBJECT
 public:
  explicit LayerComparisonView(QWidget* parent = nullptr);

  /// values[layer][head]; `layerLabels` one per layer ("0: softmax_attention");
  /// `valueLabel` names the number ("mean tolerance-ESS").
  void setData(const QStringList& layerLabels, const QVector<QVector<double>>& values,
               const QString& valueLabel, const QString& title = QString());
  void clear();
  const QVector<QVector<double>>& values() const { return values_; }

  /// Highlights the current layer and head (-1 to hide).
  void setCurrentHead(int layer, int head);
  /// Cell (x = head, y = layer) under the widget pixel `pos`, or (-1, -1).
  QPoint cellAt(const QPointF& pos) const;
  /// Widget pixel at the centre of a cell.
  QPointF cellCenter(int layer, int head) const;

  QString toCsv() const override;
  QString figureName() const override { return QStringLiteral("layers"); }

 signals:
  void headActivated(int layer, int head);

 protected:
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;

 private:
  void rebuild();
  int maxHeads() const;

  QStringList layerLabels_;
  QVector<QVector<double>> values_;
  QString valueLabel_;
  QCPColorMap* map_ = nullptr;
  QCPColorScale* colorScale_ = nullptr;
  QList<QCPItemText*> labels_;
  QCPItemRect* current_ = nullptr;
  int currentLayer_ = -1;
  int currentHead_ = -1;
  QPointF pressPos_;
};
