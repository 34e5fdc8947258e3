// PositionPresenter: the Position tab. ESS over token position of the selection (one row), or
// of every layer's total (one row per layer, computing every layer's curves), with the input's
// tokens on the axis and the delimiters typed in "mark tokens:" marked; an MQAR input's key,
// value and query positions are marked too.
#pragma once
#include "tab_presenter.h"

class PositionEssView;
class QCheckBox;
class QLineEdit;

class PositionPresenter : public TabPresenter {
  Q_OBJECT
 public:
  PositionPresenter(Document* document, Selection* selection, SplitPoint* split, QWidget* window);

  QString title() const override { return tr("Position"); }
  QList<PlotView*> views() const override;
  QStringList exportNames() const override { return {tr("ESS over position")}; }
  /// "<base>_layer0_total_position.<suffix>", or "<base>_position_all_layers.<suffix>".
  QString exportName(PlotView* view, const QString& base, const QString& suffix) const override;
  void activated() override;
  void documentOpened() override;

  PositionEssView* positionView() const { return position_; }
  QCheckBox* allLayersBox() const { return all_; }
  QLineEdit* marksEdit() const { return marks_; }

 private:
  void refresh();
  void onCurveReady(int layer);
  void onInvalidated();
  /// Compare A/B: A's curve over B's in each row.
  void comparisonChanged() override;
  void pinnedCurveReady(int layer) override;
  void pinnedLayersReady() override { refresh(); }

  PositionEssView* position_ = nullptr;
  QCheckBox* all_ = nullptr;
  QLineEdit* marks_ = nullptr;
};
