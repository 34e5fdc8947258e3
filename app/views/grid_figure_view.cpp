#include "grid_figure_view.h"

#include <QFontMetricsF>
#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>

namespace {

// A panel's title: never widens its column (fitPanelTitles picks the text that fits).
class PanelTitle : public QCPTextElement {
 public:
  PanelTitle(QCustomPlot* plot, const QString& text, const QFont& font) : QCPTextElement(plot, text, font) {}
  QSize minimumOuterSizeHint() const override { return {0, QCPTextElement::minimumOuterSizeHint().height()}; }
};

// Whole-number ticks labelled only inside the matrix (square cells can widen an axis range).
class PanelTicker : public IndexTicker {
 public:
  int length = 0;

 protected:
  QString getTickLabel(double tick, const QLocale& locale, QChar formatChar, int precision) override {
    if (length > 0 && (tick < -0.01 || tick > length - 0.99)) return QString();
    return QCPAxisTicker::getTickLabel(tick, locale, formatChar, precision);
  }
};

// Design sizes (screen style, points): FigureStyle scales them (PlotView::applyFigureStyle).
constexpr double kTickPt = 9.0, kLabelPt = 10.0, kPanelTitlePt = 9.5, kLegendPt = 8.5;

QFont sized(const QFont& base, double pt) {
  QFont f = base;
  f.setPointSizeF(pt);
  return f;
}

// The cells a tile's samples cover: cell (i, j) spans the block of steps starting at its sample;
// QCustomPlot needs two cells per direction to give them a width, so one is drawn as two halves.
void tileAxis(int first, int step, int n, int* size, QCPRange* range) {
  if (n >= 2) {
    const double lo = first + (step - 1) / 2.0;
    *size = n;
    *range = QCPRange(lo, lo + double(n - 1) * step);
  } else {
    *size = 2;
    *range = QCPRange(first - 0.5 + 0.25 * step, first - 0.5 + 0.75 * step);
  }
}

}  // namespace

GridFigureView::GridFigureView(QWidget* parent) : PlotView(parent) {
  // The panels replace QCustomPlot's single axis rect (and the legend inside it).
  plotLayout()->remove(axisRect());
  setAutoAddPlottableToLegend(false);  // setCurves puts one entry per line style in its legend
  grid_ = new QCPLayoutGrid;
  plotLayout()->addElement(1, 0, grid_);
  setTitle(tr("no panels"));
}

void GridFigureView::clearPanels() {
  clearPlottables();
  clearItems();
  grid_->clear();
  rects_.clear();
  titles_.clear();
  maps_.clear();
  backgrounds_.clear();
  if (colorScale_) plotLayout()->remove(colorScale_);
  colorScale_ = nullptr;
  if (legendRow_) plotLayout()->remove(legendRow_);
  legendRow_ = nullptr;
  legend_ = nullptr;
  plotLayout()->simplify();
  rows_ = columns_ = 0;
}

void GridFigureView::buildPanels(const QString& title) {
  for (const GridPanel& p : panels_) {
    rows_ = std::max(rows_, p.row + 1);
    columns_ = std::max(columns_, p.column + 1);
  }
  // The outer panels carry the tick labels and axis titles: the lowest panel of each column,
  // the first of each row.
  QVector<int> lowest(columns_, -1);
  for (const GridPanel& p : panels_) lowest[p.column] = std::max(lowest[p.column], p.row);
  QVector<QCPMarginGroup*> columnGroups, rowGroups;
  for (int c = 0; c < columns_; ++c) columnGroups.append(new QCPMarginGroup(this));
  for (int r = 0; r < rows_; ++r) rowGroups.append(new QCPMarginGroup(this));
  const bool heatmap = kind_ == Kind::Heatmap;
  for (const GridPanel& p : panels_) {
    auto* cell = new QCPLayoutGrid;
    grid_->addElement(p.row, p.column, cell);
    cell->setRowSpacing(0);
    auto* t = new PanelTitle(this, p.title, sized(font(), kPanelTitlePt));
    cell->addElement(0, 0, t);
    auto* rect = new QCPAxisRect(this, true);
    cell->addElement(1, 0, rect);
    cell->setRowStretchFactor(0, 0.001);
    rect->setMarginGroup(QCP::msLeft | QCP::msRight, columnGroups[p.column]);
    rect->setMarginGroup(QCP::msTop | QCP::msBottom, rowGroups[p.row]);
    QCPAxis* x = rect->axis(QCPAxis::atBottom);
    QCPAxis* y = rect->axis(QCPAxis::atLeft);
    rect->axis(QCPAxis::atTop)->setVisible(false);
    rect->axis(QCPAxis::atRight)->setVisible(false);
    for (QCPAxis* a : {x, y}) {
      a->setLabelFont(sized(font(), kLabelPt));
      a->setTickLabelFont(sized(font(), kTickPt));
      auto ticker = QSharedPointer<PanelTicker>::create();
      ticker->length = heatmap ? p.length : 0;
      a->setTicker(ticker);
    }
    const bool bottom = p.row == lowest[p.column], left = p.column == 0;
    x->setTickLabels(bottom);
    y->setTickLabels(left);
    if (heatmap) {
      // Short: small panels would wrap "input position c (column)" onto three lines.
      x->setLabel(bottom ? tr("input c") : QString());
      y->setLabel(left ? tr("output r") : QString());
      y->setRangeReversed(true);  // row 0 at the top, like a matrix
      x->grid()->setVisible(false);
      y->grid()->setVisible(false);
      x->setTickLength(0, 4);
      y->setTickLength(0, 4);
      x->setSubTicks(false);
      y->setSubTicks(false);
    } else {
      y->setTicker(QSharedPointer<QCPAxisTicker>::create());
      x->setLabel(bottom ? tr("split s") : QString());
      y->setLabel(left ? tr("ESS") : QString());
    }
    rects_.append(rect);
    titles_.append(t);
  }
  setTitle(title);
}

void GridFigureView::setHeatmaps(const QVector<GridPanel>& panels, const HeatmapStyle& style, const QString& title) {
  clearPanels();
  kind_ = Kind::Heatmap;
  panels_ = panels;
  buildPanels(title);
  colorScale_ = new QCPColorScale(this);
  barBelow_ = false;
  plotLayout()->addElement(1, 1, colorScale_);
  colorScale_->setType(QCPAxis::atRight);
  colorScale_->setBarWidth(14);
  colorScale_->axis()->setLabelFont(sized(font(), kLabelPt));
  colorScale_->axis()->setTickLabelFont(sized(font(), kTickPt));
  const bool linear = style.scale == HeatmapView::Scale::Linear;
  colorScale_->axis()->setLabel(linear ? tr("T[r, c]") : tr("log10 |T[r, c]|"));

  // One scale for all panels: the sign, the log floor (10 decades below the largest magnitude)
  // and the range come from every panel's samples.
  const auto masked = [&](const HeatmapTile& t, int i, int j) {
    const int r = t.firstRow + i * t.rowStep, c = t.firstColumn + j * t.columnStep;
    return style.maskUpper && c > r;
  };
  bool negative = false;
  double maxLog = -std::numeric_limits<double>::infinity(), minLog = -maxLog;
  for (const GridPanel& p : panels_)
    for (int i = 0; i < p.tile.rows; ++i)
      for (int j = 0; j < p.tile.columns; ++j) {
        const double v = p.tile.values.value(i * p.tile.columns + j, std::nan(""));
        if (!std::isfinite(v) || masked(p.tile, i, j)) continue;
        negative = negative || v < 0;
        if (v == 0) continue;
        maxLog = std::max(maxLog, std::log10(std::abs(v)));
        minLog = std::min(minLog, std::log10(std::abs(v)));
      }
  if (!std::isfinite(maxLog)) maxLog = 0, minLog = -1;
  const double floor = std::max(minLog, maxLog - 10.0);
  effectiveMap_ =
      style.autoMap ? (negative && linear ? colormaps::Map::Diverging : colormaps::Map::Viridis) : style.map;
  const QCPColorGradient gradient = colormaps::gradient(effectiveMap_);
  colorScale_->setGradient(gradient);

  QVector<double> drawn;
  for (int k = 0; k < panels_.size(); ++k) {
    const GridPanel& p = panels_[k];
    QCPAxisRect* rect = rects_[k];
    QCPAxis* x = rect->axis(QCPAxis::atBottom);
    QCPAxis* y = rect->axis(QCPAxis::atLeft);
    // Exact zeros on the log scale and the masked triangle are transparent over this colour.
    auto* background = new QCPItemRect(this);
    background->setClipAxisRect(rect);
    background->setClipToAxisRect(true);
    for (QCPItemPosition* pos : {background->topLeft, background->bottomRight}) pos->setAxes(x, y);
    background->setLayer(QStringLiteral("grid"));
    background->setPen(Qt::NoPen);
    background->setBrush(colormaps::maskColor());
    background->setSelectable(false);
    background->topLeft->setCoords(-0.5, -0.5);
    background->bottomRight->setCoords(p.length - 0.5, p.length - 0.5);
    backgrounds_.append(background);

    auto* map = new QCPColorMap(x, y);
    map->setInterpolate(false);
    map->setTightBoundary(false);
    map->setGradient(gradient);
    const HeatmapTile& t = p.tile;
    int keySize = 0, valueSize = 0;
    QCPRange keyRange, valueRange;
    tileAxis(t.firstColumn, t.columnStep, t.columns, &keySize, &keyRange);
    tileAxis(t.firstRow, t.rowStep, t.rows, &valueSize, &valueRange);
    auto* data = map->data();
    data->setSize(keySize, valueSize);
    data->setRange(keyRange, valueRange);
    bool anyMasked = false;
    for (int i = 0; i < valueSize; ++i)
      for (int j = 0; j < keySize; ++j) {
        const int si = std::min(i, std::max(0, t.rows - 1)), sj = std::min(j, std::max(0, t.columns - 1));
        const double v = t.values.value(si * t.columns + sj, std::nan(""));
        double d = std::nan("");
        if (std::isfinite(v)) d = linear ? v : (v == 0 ? floor : std::max(floor, std::log10(std::abs(v))));
        data->setCell(j, i, d);
        if (masked(t, si, sj) || (!linear && v == 0)) {
          data->setAlpha(j, i, 0);
          anyMasked = true;
        } else if (std::isfinite(d) && i < t.rows && j < t.columns) {
          drawn.append(d);
        }
      }
    background->setVisible(anyMasked);
    map->setColorScale(colorScale_);
    maps_.append(map);
    x->setRange(-0.5, p.length - 0.5);
    y->setRange(-0.5, p.length - 0.5);
  }
  const QCPRange range =
      HeatmapView::colorRangeOf(drawn, effectiveMap_ == colormaps::Map::Diverging, linear, style.range);
  colorScale_->setDataRange(range);
  for (QCPColorMap* m : maps_) m->setDataRange(range);
  replot();
}

void GridFigureView::setCurves(const QVector<GridPanel>& panels, const QString& title) {
  clearPanels();
  kind_ = Kind::Curve;
  panels_ = panels;
  buildPanels(title);
  legend_ = new QCPLegend;
  legendRow_ = new QCPLayoutGrid;
  plotLayout()->addElement(2, 0, legendRow_);
  plotLayout()->setRowStretchFactor(2, 0.001);
  legendRow_->setColumnSpacing(0);
  for (int c : {0, 2}) {
    auto* spacer = new QCPLayoutElement(this);
    spacer->setMaximumSize(QWIDGETSIZE_MAX, 0);
    legendRow_->addElement(0, c, spacer);
  }
  legendRow_->addElement(0, 1, legend_);
  legend_->setLayer(QStringLiteral("legend"));
  legend_->setBorderPen(Qt::NoPen);
  legend_->setFont(sized(font(), kLegendPt));
  legend_->setFillOrder(QCPLayoutGrid::foColumnsFirst);
  legend_->setWrap(3);

  // One y range for every panel: 0 to the largest value drawn (TSS included).
  double xmax = 1, ymax = 0;
  bool tolInLegend = false, entInLegend = false, tssInLegend = false;
  for (int k = 0; k < panels_.size(); ++k) {
    const EssSeries& s = panels_[k].series;
    QCPAxis* x = rects_[k]->axis(QCPAxis::atBottom);
    QCPAxis* y = rects_[k]->axis(QCPAxis::atLeft);
    for (double v : s.splits) xmax = std::max(xmax, v);
    for (const QVector<double>* values : {&s.tolerance, &s.entropy, &s.tss})
      for (double v : *values)
        if (std::isfinite(v)) ymax = std::max(ymax, v);
    QCPGraph* tol = addGraph(x, y);
    tol->setName(tr("tolerance-ESS"));
    tol->setPen(QPen(colormaps::seriesColor(0), 1.8));
    tol->setData(s.splits, s.tolerance, true);
    if (!tolInLegend) tol->addToLegend(legend_);
    tolInLegend = true;
    QCPGraph* ent = addGraph(x, y);
    ent->setName(tr("entropy-ESS"));
    ent->setPen(QPen(colormaps::seriesColor(1), 1.8, Qt::DashLine));
    ent->setData(s.splits, s.entropy, true);
    if (!entInLegend) ent->addToLegend(legend_);
    entInLegend = true;
    bool anyTss = false;
    for (double v : s.tss) anyTss = anyTss || std::isfinite(v);
    if (anyTss) {
      QCPGraph* tss = addGraph(x, y);
      tss->setName(tr("theoretical state size"));
      tss->setPen(QPen(QColor(90, 90, 90), 1.3, Qt::DotLine));
      tss->setData(s.splits, s.tss, true);
      if (!tssInLegend) tss->addToLegend(legend_);
      tssInLegend = true;
    }
  }
  if (ymax <= 0) ymax = 1;
  for (QCPAxisRect* rect : rects_) {
    rect->axis(QCPAxis::atBottom)->setRange(0, xmax + 1);  // ticks at 0 and L
    rect->axis(QCPAxis::atLeft)->setRange(0, ymax * 1.08);
  }
  replot();
}

bool GridFigureView::fitPanelTitles() {
  bool changed = false;
  // Axis titles of the outer panels: the short form ("r") where the long one ("output r")
  // would be wrapped or elided along a small panel.
  const bool heatmap = kind_ == Kind::Heatmap;
  for (QCPAxisRect* rect : rects_)
    for (QCPAxis* a : {rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft)}) {
      if (a->label().isEmpty()) continue;
      const bool x = a->orientation() == Qt::Horizontal;
      const QString full = x ? (heatmap ? tr("input c") : tr("split s")) : (heatmap ? tr("output r") : tr("ESS"));
      const QString brief = x ? (heatmap ? tr("c") : tr("s")) : (heatmap ? tr("r") : tr("ESS"));
      const double room = x ? rect->rect().width() : rect->rect().height();
      const QString label = 1.06 * QFontMetricsF(a->labelFont()).horizontalAdvance(full) <= room ? full : brief;
      if (a->label() != label) {
        a->setLabel(label);
        changed = true;
      }
    }
  for (int k = 0; k < titles_.size(); ++k) {
    QCPTextElement* t = titles_[k];
    // Over the panel's plot area (not its tick labels, which may reach up beside it).
    // Centred on the plot area, the title may reach into the panel's side margins as far as both
    // are empty at its height: the left one up to its tick labels (the top one reaches up beside
    // the title), never into the next panel (the column spacing lies between).
    const QMargins m = rects_[k]->margins();
    const QCPAxis* y = rects_[k]->axis(QCPAxis::atLeft);
    const int leftFree = y->tickLabels()
                             ? std::min(m.left(), y->offset() + std::max(0, y->tickLengthOut()) + y->tickLabelPadding())
                             : m.left();
    const int side = std::max(0, std::min(leftFree, m.right()));
    const QMargins want(m.left() - side, t->margins().top(), m.right() - side, t->margins().bottom());
    if (t->margins() != want) {
      t->setMargins(want);
      changed = true;
    }
    const double room = t->outerRect().width() - want.left() - want.right();
    const QFontMetricsF fm(t->font());
    const GridPanel& p = panels_[k];
    QString text = 1.04 * fm.horizontalAdvance(p.title) <= room ? p.title : p.shortTitle;
    if (1.04 * fm.horizontalAdvance(text) > room) text = fm.elidedText(text, Qt::ElideRight, room / 1.04);
    if (t->text() != text) {
      t->setText(text);
      changed = true;
    }
  }
  return changed;
}

bool GridFigureView::equalizePanels() {
  if (rects_.isEmpty()) return false;
  // Every panel gets the same inner size: columns and rows stretch in proportion to that size
  // plus their margins (the outer panels' tick labels and axis titles).
  QVector<double> margin(columns_, 0), extra(rows_, 0);
  QVector<double> width(columns_, 0), height(rows_, 0);
  for (int k = 0; k < rects_.size(); ++k) {
    const GridPanel& p = panels_[k];
    const QRect inner = rects_[k]->rect();
    const QRect cell = rects_[k]->layout()->outerRect();
    margin[p.column] = cell.width() - inner.width();
    width[p.column] = cell.width();
    extra[p.row] = cell.height() - inner.height();
    height[p.row] = cell.height();
  }
  const auto equalize = [](const QVector<double>& sizes, const QVector<double>& margins, double total,
                           QList<double>* stretch) {
    double sum = 0;
    for (double m : margins) sum += m;
    const double inner = (total - sum) / std::max(1, int(sizes.size()));
    bool changed = false;
    stretch->clear();
    for (int i = 0; i < sizes.size(); ++i) {
      stretch->append(std::max(1.0, inner + margins[i]));
      changed = changed || std::abs(sizes[i] - (inner + margins[i])) > 1.0;
    }
    return inner > 4 && changed;
  };
  QList<double> columns, rows;
  const double totalWidth = grid_->rect().width() - (columns_ - 1) * grid_->columnSpacing();
  const double totalHeight = grid_->rect().height() - (rows_ - 1) * grid_->rowSpacing();
  bool changed = false;
  if (equalize(width, margin, totalWidth, &columns)) {
    grid_->setColumnStretchFactors(columns);
    changed = true;
  }
  if (equalize(height, extra, totalHeight, &rows)) {
    grid_->setRowStretchFactors(rows);
    changed = true;
  }
  return changed;
}

void GridFigureView::uniformPanels() {
  // Margins that changed in the last pass (tick labels) can leave panels a few units apart in
  // size: shrink each to the smallest, centred in its place (shrinking needs no new layout).
  int w = INT_MAX, h = INT_MAX;
  for (QCPAxisRect* r : rects_) w = std::min(w, r->rect().width()), h = std::min(h, r->rect().height());
  for (int k = 0; k < rects_.size(); ++k) {
    QCPAxisRect* r = rects_[k];
    const QRect inner = r->rect();
    if (inner.width() == w && inner.height() == h) continue;
    const QRect shrunk(inner.left() + (inner.width() - w) / 2, inner.top(), w, h);
    const QMargins m = r->margins();
    r->setOuterRect(shrunk.adjusted(-m.left(), -m.top(), m.right(), m.bottom()));
    static_cast<QCPLayoutElement*>(r)->update(QCPLayoutElement::upLayout);
    QCPTextElement* t = titles_[k];
    const int dx = shrunk.center().x() - inner.center().x();
    t->setOuterRect(t->outerRect().translated(dx, 0));
  }
}

void GridFigureView::placeColorScale() {
  if (!colorScale_ || rects_.isEmpty()) return;
  // The bar spans the panels' plot areas: beside them from the first row's top to the last
  // row's bottom, or below them from the first column's left to the last column's right.
  int top = INT_MAX, bottom = INT_MIN, left = INT_MAX, right = INT_MIN;
  for (QCPAxisRect* r : rects_) {
    top = std::min(top, r->rect().top());
    bottom = std::max(bottom, r->rect().bottom());
    left = std::min(left, r->rect().left());
    right = std::max(right, r->rect().right());
  }
  const QRect outer = colorScale_->outerRect();
  const QMargins m = colorScale_->margins();
  if (barBelow_)
    colorScale_->setOuterRect(
        QRect(left - m.left(), outer.top(), right - left + 1 + m.left() + m.right(), outer.height()));
  else
    colorScale_->setOuterRect(
        QRect(outer.left(), top - m.top(), outer.width(), bottom - top + 1 + m.top() + m.bottom()));
  static_cast<QCPLayoutElement*>(colorScale_)->update(QCPLayoutElement::upLayout);
}

bool GridFigureView::placeColorScaleCell(const QFontMetricsF& tickMetrics) {
  if (!colorScale_ || columns_ == 0) return false;
  // A vertical bar with its tick labels and title takes about 3.5 tick-label lines of width:
  // where that leaves columns narrower than about 7 lines (three heads in 2 in, sixteen in
  // 7 in), the bar lies under the panels instead and the panels get the whole width (a grid is
  // read by its pattern across heads; its height has room to spare).
  const bool below = viewport().width() < 7.0 * tickMetrics.height() * columns_;
  if (below == barBelow_ && colorScale_->layout()) return false;
  barBelow_ = below;
  if (colorScale_->layout()) plotLayout()->take(colorScale_);
  plotLayout()->simplify();
  if (below) {
    colorScale_->setType(QCPAxis::atBottom);
    plotLayout()->addElement(2, 0, colorScale_);
    plotLayout()->setRowStretchFactor(2, 0.001);
  } else {
    colorScale_->setType(QCPAxis::atRight);
    plotLayout()->addElement(1, 1, colorScale_);
  }
  // QCPColorScale keeps the gradient image of its old orientation until its gradient changes.
  const QCPColorGradient gradient = colorScale_->gradient();
  QCPColorGradient other = gradient;
  other.setPeriodic(!gradient.periodic());
  colorScale_->setGradient(other);
  colorScale_->setGradient(gradient);
  return true;
}

void GridFigureView::squareCells() {
  if (kind_ != Kind::Heatmap) return;
  // Square cells whatever the panels' aspect: the longer side shows more than the matrix.
  for (int k = 0; k < rects_.size(); ++k) {
    const QRect r = rects_[k]->rect();
    const double L = panels_[k].length;
    if (r.width() <= 0 || r.height() <= 0 || L <= 0) continue;
    const double wide = std::max(1.0, double(r.width()) / r.height()),
                 tall = std::max(1.0, double(r.height()) / r.width());
    const double centre = (L - 1) / 2.0;
    rects_[k]->axis(QCPAxis::atBottom)->setRange(centre - wide * L / 2, centre + wide * L / 2);
    rects_[k]->axis(QCPAxis::atLeft)->setRange(centre - tall * L / 2, centre + tall * L / 2);
  }
}

void GridFigureView::updateLayout() {
  // Spacing between panels: room for the last tick label of one and the first of the next.
  // (The screen style's text shrinks toward the paper style's under 3 in: PlotView::compactness.)
  const double scale = (figureStyle().baseFontSize() - compactness() * (9.0 - 7.5)) / kTickPt;
  const QFontMetricsF fm(sized(font(), kTickPt * scale));
  placeColorScaleCell(fm);
  grid_->setColumnSpacing(int(std::lround(fm.horizontalAdvance(QStringLiteral("00")))));
  grid_->setRowSpacing(int(std::lround(0.4 * fm.height())));
  if (legend_) {
    QFont f = sized(legend_->font(), kLegendPt * scale);
    if (!figureStyle().fontFamily.isEmpty()) f.setFamily(figureStyle().fontFamily);
    legend_->setFont(f);
    for (int i = 0; i < legend_->itemCount(); ++i)
      if (auto* item = qobject_cast<QCPPlottableLegendItem*>(legend_->item(i))) item->setFont(f);
    const double px = layoutDpi() / 96.0 * (figureStyle().preset == FigureStyle::Preset::Paper ? 0.7 : 1.0);
    legend_->setIconSize(int(std::lround(24 * px)), int(std::lround(10 * px)));
    // As many columns as fit the width (EssCurveView's rule).
    int widest = 1;
    for (int i = 0; i < legend_->itemCount(); ++i)
      if (QCPAbstractLegendItem* item = legend_->item(i))
        widest = std::max(widest, item->minimumOuterSizeHint().width());
    const int columns = std::clamp((viewport().width() - 8) / (widest + legend_->columnSpacing()), 1, 3);
    if (legend_->wrap() != columns) {
      legend_->setWrap(columns);
      legend_->setFillOrder(QCPLayoutGrid::foColumnsFirst, true);
    }
    const QMargins m = legend_->margins();
    legend_->setMaximumSize(QWIDGETSIZE_MAX,
                            std::max(1, legend_->minimumOuterSizeHint().height() - m.top() - m.bottom()));
  }
  // Panels sit close: QCPAxisRect's default minimum margins are 15 pixels on every side; the
  // right one keeps room for half of a last tick label.
  for (QCPAxisRect* r : rects_)
    r->setMinimumMargins(QMargins(2, 2, int(std::lround(0.6 * fm.horizontalAdvance(QStringLiteral("00")))), 2));
  for (int pass = 0; pass < 6; ++pass) {
    PlotView::updateLayout();
    const bool titles = fitPanelTitles();
    const bool sizes = equalizePanels();
    if (!titles && !sizes) break;
  }
  uniformPanels();
  placeColorScale();
  squareCells();
}

int GridFigureView::tightHeight(int width) {
  if (kind_ != Kind::Heatmap || rects_.isEmpty()) return 0;
  // Lay out in a tall probe, then drop each row's height beyond its square; again at that height.
  const QRect old = viewport();
  const int probe = std::max(64, int(width * (2.0 * rows_ / std::max(1, columns_) + 2.0)));
  setViewport(QRect(0, 0, width, probe));
  updateLayout();
  QRect inner = rects_[0]->rect();
  int height = probe - rows_ * std::max(0, inner.height() - inner.width());
  for (int pass = 0; pass < 2; ++pass) {
    setViewport(QRect(0, 0, width, height));
    updateLayout();
    inner = rects_[0]->rect();
    height -= rows_ * (inner.height() - inner.width());
  }
  setViewport(old);
  updateLayout();
  return std::max(16, height);
}

double GridFigureView::aspect() const {
  if (columns_ == 0) return PlotView::aspect();
  // Curves: a legend row more.
  return std::min(1.5, 0.62 * rows_ / columns_ + (kind_ == Kind::Heatmap ? 0.22 : 0.32));
}

QString GridFigureView::toCsv() const {
  QString out;
  if (kind_ == Kind::Heatmap) {
    out = QStringLiteral("layer,head,row,column,value\n");
    for (const GridPanel& p : panels_)
      for (int i = 0; i < p.tile.rows; ++i)
        for (int j = 0; j < p.tile.columns; ++j)
          out += QStringLiteral("%1,%2,%3,%4,")
                     .arg(p.layer)
                     .arg(p.head)
                     .arg(p.tile.firstRow + i * p.tile.rowStep)
                     .arg(p.tile.firstColumn + j * p.tile.columnStep) +
                 csvNumber(p.tile.values.value(i * p.tile.columns + j, std::nan(""))) + QLatin1Char('\n');
    return out;
  }
  out = QStringLiteral("layer,head,split,tolerance_ess,entropy_ess,tss\n");
  for (const GridPanel& p : panels_) {
    const EssSeries& s = p.series;
    for (int i = 0; i < s.splits.size(); ++i) {
      const auto at = [&](const QVector<double>& v) { return i < v.size() ? csvNumber(v[i]) : QString(); };
      // An unknown TSS (operator files) is empty, as in `ess curve`.
      const QString tss = i < s.tss.size() && std::isfinite(s.tss[i]) ? csvNumber(s.tss[i]) : QString();
      out += QStringLiteral("%1,%2,").arg(p.layer).arg(p.head) + csvNumber(s.splits[i]) + QLatin1Char(',') +
             at(s.tolerance) + QLatin1Char(',') + at(s.entropy) + QLatin1Char(',') + tss + QLatin1Char('\n');
    }
  }
  return out;
}
