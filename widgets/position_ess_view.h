// PositionEssView: ESS over position for one layer or for every layer as a small multiple
// (one row per layer, shared x axis): tolerance-ESS and entropy-ESS at every split s with the
// input's token text along the x axis, and chosen delimiter tokens (end-of-sequence, newline,
// a typed token) marked as bands. Split s sits between token s-1 and token s, so token i spans
// x in [i, i+1] and its label is centred at x = i + 0.5; labels are thinned so they do not
// overlap and all shown once the view is zoomed in far enough (docs/definitions.md section 1; the
// paper's "state modulation" analysis, Parnichkun et al., ICML 2025). An MQAR input's key,
// value and query positions can be marked too (setPositionRoles). The legend sits below the
// plots, where it hides no data.
#pragma once
#include <QStringList>
#include <QVector>
#include <utility>

#include "ess_curve_view.h"

/// One row of the view: the curve (a layer total or one head) of layer `layer`. Compare A/B:
/// `compare` is the other checkpoint's curve drawn over `series`, each named by its `checkpoint`.
struct PositionRow {
  PositionRow() = default;
  PositionRow(int layer_, EssSeries series_, EssSeries compare_ = {})
      : layer(layer_), series(std::move(series_)), compare(std::move(compare_)) {}
  int layer = 0;
  EssSeries series;
  EssSeries compare;  ///< empty splits: none
};

class PositionEssView : public PlotView {
  Q_OBJECT
 public:
  explicit PositionEssView(QWidget* parent = nullptr);

  /// Shows `rows` (one row: a single plot; several: stacked small multiples, top to bottom in
  /// the given order) against the tokens `tokens` (the text of each input token, may be empty:
  /// the x axis then shows split numbers).
  void setRows(const QVector<PositionRow>& rows, const QStringList& tokens, const QString& title = QString());
  void clear();
  const QVector<PositionRow>& rows() const { return rows_; }
  const QStringList& tokens() const { return tokens_; }
  int rowCount() const { return rows_.size(); }

  /// Tokens to mark: every position whose label equals one of `marks` gets a band.
  void setMarkedTokens(const QStringList& marks);
  /// Token positions currently marked (ascending).
  QVector<int> markedPositions() const;
  /// The roles of an MQAR input's positions (ess::mqarRoles): keys, values and queries are
  /// drawn as bands in three colours, each with a legend entry; the x axis then shows each
  /// token's position index under its id and the hover names the role. Empty: no roles (any
  /// other input).
  void setPositionRoles(const QVector<int>& keys, const QVector<int>& values, const QVector<int>& queries);
  const QVector<int>& keyPositions() const { return keys_; }
  const QVector<int>& valuePositions() const { return values_; }
  const QVector<int>& queryPositions() const { return queries_; }
  bool hasPositionRoles() const { return !keys_.isEmpty() || !values_.isEmpty() || !queries_.isEmpty(); }
  /// The role of token `position` ("key", "value", "query"), empty when none.
  QString roleAt(int position) const;
  /// Parses the "mark tokens:" field: comma-separated, each trimmed; the escapes \n, \t, \r
  /// and \, stand for newline, tab, carriage return and a comma ("\n, ., <eos>").
  static QStringList parseMarks(const QString& text);
  /// A token's text as drawn on the axis: newline as "\n", tab as "\t", empty as "''".
  static QString displayToken(const QString& token);

  /// Token positions whose label the x axis shows now (thinned to fit, every one when zoomed).
  QVector<int> visibleLabelPositions() const;
  /// Fits the x axis to all tokens and the y axes to the data.
  void resetView();

  /// Columns layer,split,token,tolerance_ess,entropy_ess; `token` is the text of token s-1, the
  /// last token read before split s (CSV-quoted). Compare A/B: first columns `checkpoint,step`, the
  /// rows of `series`, then those of `compare`.
  QString toCsv() const override;
  QString figureName() const override { return QStringLiteral("position_ess"); }
  /// The screen's 900 x 620.
  double aspect() const override;

 protected:
  void onSplitChanged(int split) override;
  void resizeEvent(QResizeEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  /// Resets the zoom (resetView) and nothing else: the split its first click moved is restored.
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  /// Lays out, then thins the token labels for the laid-out width (and lays out again when the
  /// labels changed), so every replot and export draws labels that fit.
  void updateLayout() override;

 private:
  void rebuild();
  void rebuildMarks();
  void rebuildRoles();
  void fitLegend();
  bool updateTicks();  // true when the labelled positions changed
  void updateCursors();
  QCPAxisRect* rectAt(const QPointF& pos) const;

  QVector<PositionRow> rows_;
  int splitBeforeClick_ = 0;  // the split when the last press began (a double-click restores it)
  QStringList tokens_;
  QStringList marks_;
  QString baseTitle_;
  QVector<QCPAxisRect*> rects_;
  QCPMarginGroup* marginGroup_ = nullptr;
  QVector<QCPItemRect*> bands_;
  QVector<int> keys_, values_, queries_;
  QVector<QCPItemRect*> roleBands_;
  QVector<QCPBars*> roleLegend_;  // empty bars: the legend entries of the roles
  QCPLayoutGrid* legendRow_ = nullptr;
  QVector<QCPItemStraightLine*> cursors_;
  QSharedPointer<QCPAxisTickerText> ticker_;
  QVector<int> labelPositions_;
  bool updatingRange_ = false;
};
