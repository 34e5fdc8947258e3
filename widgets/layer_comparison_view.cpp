#include "layer_comparison_view.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "colormaps.h"

namespace {

QString shortNumber(double v) {
  if (!std::isfinite(v)) return QStringLiteral("–");
  return QString::number(v, 'f', std::abs(v) < 10 ? 2 : (std::abs(v) < 1000 ? 1 : 0));
}

QString percent(double u) {
  if (!std::isfinite(u)) return QStringLiteral("–");
  return QString::number(100.0 * u, 'f', u < 0.1 ? 2 : 1) + QStringLiteral(" %");
}

QString familyOf(const LayerTotals& t) {
  const int colon = t.label.indexOf(QStringLiteral(": "));
  return colon < 0 ? QString() : mixerFamily(t.label.mid(colon + 2).trimmed());
}

}  // namespace

QString mixerFamily(const QString& k) {
  if (k.endsWith(QStringLiteral("attention")) && k != QStringLiteral("linear_attention"))
    return QStringLiteral("attention");
  for (const char* s : {"mamba", "mamba2", "falcon_mamba", "lti_ssm"})
    if (k == QLatin1String(s)) return QStringLiteral("SSM");
  for (const char* c : {"short_conv", "hyena", "conv"})
    if (k == QLatin1String(c)) return QStringLiteral("conv");
  for (const char* r : {"linear_attention", "gla", "retnet", "deltanet", "delta_net", "gated_deltanet", "rg_lru"})
    if (k == QLatin1String(r)) return QStringLiteral("recurrent");
  return {};
}

QColor mixerFamilyColor(const QString& family) {
  if (family == QLatin1String("attention")) return QColor(0, 114, 178);
  if (family == QLatin1String("SSM")) return QColor(213, 94, 0);
  if (family == QLatin1String("conv")) return QColor(0, 158, 115);
  if (family == QLatin1String("recurrent")) return QColor(204, 121, 167);
  return QColor(150, 150, 150);
}

LayerComparisonView::LayerComparisonView(QWidget* parent) : PlotView(parent) {
  xAxis->setLabel(QStringLiteral("head or channel group"));
  yAxis->setLabel(QStringLiteral("layer"));
  yAxis->setRangeReversed(true);
  xAxis->grid()->setVisible(false);
  yAxis->grid()->setVisible(false);
  xAxis->setTickLength(0, 0);
  yAxis->setTickLength(0, 0);
  xAxis->setSubTicks(false);
  yAxis->setSubTicks(false);

  map_ = addColorMapWithScale(&colorScale_);
  QCPColorGradient g = colormaps::viridis();
  g.setNanColor(QColor(235, 235, 235));  // missing heads: light grey, not a value
  colorScale_->setGradient(g);
  map_->setGradient(g);
  // The colour scale lies under the grid, horizontal (its row is added below): the figure is one
  // column, so the legend and the scale's title get the whole width, and a grid of few layers
  // does not squeeze a vertical scale's title.
  plotLayout()->take(colorScale_);
  plotLayout()->simplify();
  colorScale_->setType(QCPAxis::atBottom);

  current_ = new QCPItemRect(this);
  current_->setPen(QPen(QColor(255, 60, 60), 2.5));
  current_->setVisible(false);

  // The bars' legend in a row of its own, then the bars panel, above the grid (which moves to
  // row 3, its colour scale to row 4): a legend outside the bars hides none of them.
  plotLayout()->insertRow(1);
  plotLayout()->insertRow(1);
  barsRect_ = new QCPAxisRect(this);
  plotLayout()->addElement(2, 0, barsRect_);
  plotLayout()->setRowStretchFactor(1, 0.001);
  plotLayout()->setRowStretchFactor(2, 1.3);
  plotLayout()->setRowStretchFactor(3, 1.0);
  auto* left = new QCPMarginGroup(this);
  barsRect_->setMarginGroup(QCP::msLeft | QCP::msRight, left);
  xAxis->axisRect()->setMarginGroup(QCP::msLeft | QCP::msRight, left);
  plotLayout()->addElement(4, 0, colorScale_);
  plotLayout()->setRowStretchFactor(4, 0.001);
  colorScale_->setMarginGroup(QCP::msLeft | QCP::msRight, left);
  QCPAxis* bx = barsRect_->axis(QCPAxis::atBottom);
  QCPAxis* by = barsRect_->axis(QCPAxis::atLeft);
  for (QCPAxis* a : {bx, by}) {
    a->setLabelFont(xAxis->labelFont());
    a->setTickLabelFont(xAxis->tickLabelFont());
  }
  bx->grid()->setVisible(false);
  bx->setTickLength(0, 0);
  bx->setSubTicks(false);
  by->setScaleType(QCPAxis::stLogarithmic);
  by->setTicker(QSharedPointer<DecadeTicker>::create());
  by->setNumberFormat(QStringLiteral("gb"));
  by->setLabel(QStringLiteral("layer total (mean over splits)"));

  auto* barsGroup = new QCPBarsGroup(this);
  barsGroup->setSpacing(1);
  const struct {
    QCPBars** bars;
    QString name;
    QColor color;
  } kinds[] = {{&tolBars_, QStringLiteral("tolerance-ESS"), colormaps::seriesColor(0)},  // the axis says "layer total"
               {&entBars_, QStringLiteral("entropy-ESS"), colormaps::seriesColor(1)},
               {&tssBars_, QStringLiteral("TSS"), QColor(150, 150, 150)}};
  // Centred between two spacers, in as many columns as fit (updateLayout).
  barsLegend_ = addCentredLegendRow(1);
  barsLegend_->setLayer(QStringLiteral("legend"));
  QFont lf = font();
  lf.setPointSizeF(8.5);
  barsLegend_->setFont(lf);
  barsLegend_->setBorderPen(Qt::NoPen);
  barsLegend_->setBrush(Qt::NoBrush);
  barsLegend_->setFillOrder(QCPLayoutGrid::foColumnsFirst);
  barsLegend_->setWrap(3);
  for (const auto& k : kinds) {
    auto* b = new QCPBars(bx, by);
    b->setName(k.name);
    b->setPen(QPen(k.color.darker(120)));
    b->setBrush(k.color);
    b->setWidth(0.26);
    b->setBarsGroup(barsGroup);
    b->removeFromLegend();
    b->addToLegend(barsLegend_);
    *k.bars = b;
  }
  barsGroup_ = barsGroup;
  for (QCPBars** a : {&aTolBars_, &aEntBars_}) {
    auto* b = new QCPBars(bx, by);
    const QColor color = colormaps::seriesColor(a == &aTolBars_ ? 0 : 1).lighter(150);
    b->setPen(QPen(color.darker(130)));
    b->setBrush(QBrush(color, Qt::Dense3Pattern));
    b->setWidth(0.26);
    b->removeFromLegend();
    b->setVisible(false);
    *a = b;
  }
  clear();
}

void LayerComparisonView::clear() {
  layerLabels_.clear();
  values_.clear();
  columnLabels_.clear();
  valueLabel_.clear();
  totals_.clear();
  compare_.clear();
  setTitle(tr("layer comparison (not computed)"));
  rebuildBars();
  rebuild();
}

void LayerComparisonView::setData(const QStringList& layerLabels, const QVector<QVector<double>>& values,
                                  const QString& valueLabel, const QString& title,
                                  const QVector<QStringList>& columnLabels) {
  layerLabels_ = layerLabels;
  values_ = values;
  valueLabel_ = valueLabel;
  columnLabels_ = columnLabels;
  setTitle(title.isEmpty() ? tr("%1 of every layer and head").arg(valueLabel) : title);
  rebuild();
}

void LayerComparisonView::setTotals(const QVector<LayerTotals>& totals) {
  totals_ = totals;
  rebuildBars();
  replot();
}

void LayerComparisonView::setCompareTotals(const QVector<LayerTotals>& totals, const QString& name,
                                           const QString& compareName, qint64 step, qint64 compareStep) {
  compare_ = totals;
  nameB_ = name;
  nameA_ = compareName;
  stepB_ = step;
  stepA_ = compareStep;
  rebuildBars();
  replot();
}

int LayerComparisonView::maxHeads() const {
  int h = 0;
  for (const auto& row : values_) h = std::max<int>(h, row.size());
  return h;
}

QString LayerComparisonView::columnLabel(int layer, int column) const {
  if (layer >= 0 && layer < columnLabels_.size() && column >= 0 && column < columnLabels_[layer].size())
    return columnLabels_[layer][column];
  return QString::number(column);
}

QString LayerComparisonView::layerLabel(int layer) const {
  if (layer >= 0 && layer < layerLabels_.size()) return layerLabels_[layer];
  if (layer >= 0 && layer < totals_.size()) return totals_[layer].label;
  return QString::number(layer);
}

QStringList LayerComparisonView::families() const {
  QStringList out;
  for (const QCPGraph* g : familyKeys_) out << g->name();
  return out;
}

QPointF LayerComparisonView::familyStripCenter(int layer) const {
  if (layer < 0 || layer >= familyStrips_.size() || !familyStrips_[layer]) return {};
  const QCPAxis* bx = barsRect_->axis(QCPAxis::atBottom);
  const QCPAxis* by = barsRect_->axis(QCPAxis::atLeft);
  return {bx->coordToPixel(layer), by->coordToPixel(std::sqrt(stripLow_ * stripHigh_))};
}

void LayerComparisonView::rebuildBars() {
  for (QCPItemText* t : barLabels_) removeItem(t);
  barLabels_.clear();
  for (QCPItemRect* r : familyStrips_)
    if (r) removeItem(r);
  familyStrips_.clear();
  for (QCPGraph* g : familyKeys_) {
    g->removeFromLegend(barsLegend_);  // (removePlottable only clears the main legend)
    removePlottable(g);
  }
  familyKeys_.clear();
  QCPAxis* bx = barsRect_->axis(QCPAxis::atBottom);
  QCPAxis* by = barsRect_->axis(QCPAxis::atLeft);
  const int n = totals_.size();
  QVector<double> keys, tol, ent, tss;
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (int l = 0; l < n; ++l) {
    const LayerTotals& t = totals_[l];
    keys << l;
    tol << t.tolerance;
    ent << t.entropy;
    tss << t.tss;
    for (double v : {t.tolerance, t.entropy, t.tss})
      if (std::isfinite(v) && v > 0) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  // NaN or non-positive values draw no bar (the log axis has no zero).
  const auto positive = [](QVector<double> v) {
    for (double& x : v)
      if (!(std::isfinite(x) && x > 0)) x = std::numeric_limits<double>::quiet_NaN();
    return v;
  };
  tolBars_->setData(keys, positive(tol), true);
  entBars_->setData(keys, positive(ent), true);
  tssBars_->setData(keys, positive(tss), true);
  // Compare: the other checkpoint's two bars (nameA_) join each layer's group after the three.
  const bool compare = !compare_.isEmpty();
  const QString prefixB = compare ? nameB_ + QStringLiteral(": ") : QString();
  tolBars_->setName(prefixB + QStringLiteral("tolerance-ESS"));
  entBars_->setName(prefixB + QStringLiteral("entropy-ESS"));
  QVector<double> aTol, aEnt;
  for (int l = 0; l < n; ++l) {
    const LayerTotals a = l < compare_.size() ? compare_[l] : LayerTotals{};
    aTol << (compare ? a.tolerance : std::numeric_limits<double>::quiet_NaN());
    aEnt << (compare ? a.entropy : std::numeric_limits<double>::quiet_NaN());
    if (compare)
      for (double v : {a.tolerance, a.entropy})
        if (std::isfinite(v) && v > 0) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  for (QCPBars* b : compareBars()) {
    b->removeFromLegend(barsLegend_);
    b->setBarsGroup(nullptr);
    b->setVisible(compare);
    if (compare) {
      b->setBarsGroup(barsGroup_);
      b->addToLegend(barsLegend_);
    }
  }
  aTolBars_->setName(nameA_ + QStringLiteral(": tolerance-ESS"));
  aEntBars_->setName(nameA_ + QStringLiteral(": entropy-ESS"));
  aTolBars_->setData(keys, positive(aTol), true);
  aEntBars_->setData(keys, positive(aEnt), true);
  const double width = compare ? 0.16 : 0.26;
  for (QCPBars* b : bars() + compareBars()) b->setWidth(width);
  if (!std::isfinite(lo)) lo = 1, hi = 10;
  const double bottom = std::pow(10.0, std::floor(std::log10(lo))) / 2.0;
  barsHigh_ = hi;
  for (QCPBars* b : bars() + compareBars()) b->setBaseValue(bottom);
  // The family strips lie below the bars' base, in a band of their own.
  QStringList families;
  for (const LayerTotals& t : totals_)
    if (const QString f = familyOf(t); !f.isEmpty() && !families.contains(f)) families << f;
  stripLow_ = bottom / 2.4;
  stripHigh_ = bottom / 1.15;
  // Room above for the utilization labels (fitted in updateLayout), which keeps the lower end.
  by->setRange(families.isEmpty() ? bottom : bottom / 2.6, hi * 4.0);
  for (int l = 0; l < n; ++l) {
    const QString f = familyOf(totals_[l]);
    if (f.isEmpty()) {
      familyStrips_.append(nullptr);
      continue;
    }
    auto* strip = new QCPItemRect(this);
    strip->setClipAxisRect(barsRect_);
    for (QCPItemPosition* p : {strip->topLeft, strip->bottomRight}) p->setAxes(bx, by);
    strip->topLeft->setCoords(l - 0.42, stripHigh_);
    strip->bottomRight->setCoords(l + 0.42, stripLow_);
    strip->setPen(Qt::NoPen);
    strip->setBrush(mixerFamilyColor(f));
    familyStrips_.append(strip);
  }
  for (const QString& f : families) {
    auto* key = new QCPGraph(bx, by);  // no data: a legend entry only
    key->setName(f);
    key->setLineStyle(QCPGraph::lsNone);
    key->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssSquare, Qt::NoPen, mixerFamilyColor(f), 9));
    key->removeFromLegend();
    key->addToLegend(barsLegend_);
    familyKeys_.append(key);
  }
  bx->setRange(-0.6, std::max(0, n - 1) + 0.6);

  barTicksShort_ = -1;  // updateLayout sets the layer ticks (names, or indices where names do not fit)

  // Utilization above each layer's bars.
  for (int l = 0; l < n; ++l) {
    const LayerTotals& t = totals_[l];
    double barTop = bottom;
    for (double v : {t.tolerance, t.entropy, t.tss})
      if (std::isfinite(v) && v > 0) barTop = std::max(barTop, v);
    if (l < compare_.size())
      for (double v : {compare_[l].tolerance, compare_[l].entropy})
        if (std::isfinite(v) && v > 0) barTop = std::max(barTop, v);
    auto* label = new QCPItemText(this);
    label->setClipAxisRect(barsRect_);
    label->position->setAxes(bx, by);
    label->position->setCoords(l, barTop * 1.15);
    label->setPositionAlignment(Qt::AlignHCenter | Qt::AlignBottom);
    QFont f = font();
    f.setPointSizeF(n > 8 ? 7.5 : 8.5);
    label->setFont(f);
    label->setText(n > 8 ? percent(t.utilization) : tr("util. %1").arg(percent(t.utilization)));
    barLabels_.append(label);
  }
  barsLegend_->setVisible(n > 0);
}

void LayerComparisonView::rebuild() {
  for (QCPItemText* t : labels_) removeItem(t);
  labels_.clear();
  const int layers = values_.size();
  const int heads = maxHeads();
  auto* data = map_->data();
  if (layers == 0 || heads == 0) {
    data->clear();
    xAxis->setRange(-0.5, 0.5);
    yAxis->setRange(-0.5, 0.5);
    colorScale_->axis()->setLabel(QString());
    current_->setVisible(false);
    replot();
    return;
  }
  // Two data cells per grid cell in each direction: QCPColorMapData places cell centres from
  // its range, which is degenerate for a single layer or head. Centres at -0.25, 0.25, ...
  // cover -0.5 .. n-0.5 exactly.
  data->setSize(2 * heads, 2 * layers);
  data->setRange(QCPRange(-0.25, heads - 0.75), QCPRange(-0.25, layers - 0.75));
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (int l = 0; l < layers; ++l)
    for (int h = 0; h < heads; ++h) {
      const double v = h < values_[l].size() ? values_[l][h] : nan;
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) data->setCell(2 * h + i, 2 * l + j, v);
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    }
  // ESS is a count: anchor the colour scale at zero, so that nearly equal heads look alike.
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  lo = std::min(lo, 0.0);
  if (hi <= lo) hi = lo + 1;
  map_->setDataRange(QCPRange(lo, hi));
  colorScale_->axis()->setLabel(valueLabel_);

  // Value labels, dark on the bright end of viridis, white on the dark end.
  if (layers * heads <= 1024) {
    QFont f = font();
    f.setPointSizeF(heads > 12 ? 7.0 : 8.5);
    for (int l = 0; l < layers; ++l)
      for (int h = 0; h < values_[l].size(); ++h) {
        const double v = values_[l][h];
        auto* t = new QCPItemText(this);
        t->position->setCoords(h, l);
        t->setFont(f);
        t->setText(std::isfinite(v) ? QString::number(v, 'f', v < 10 ? 2 : 1) : QStringLiteral("–"));
        const double frac = std::isfinite(v) ? (v - lo) / (hi - lo) : 0.0;
        t->setColor(frac > 0.6 ? Qt::black : Qt::white);
        t->setClipToAxisRect(true);
        t->setClipAxisRect(xAxis->axisRect());  // axisRect() is now the bars panel (first in the layout)
        labels_.append(t);
      }
  }

  // Axis ticks: layer labels on the left (updateLayout fits them), column indices at the bottom.
  layerTicks_.clear();
  fitLayerTicks();
  // Columns: head indices, or the channels of the widest layer's channel groups ("0-7").
  int widest = 0;
  for (int l = 0; l < layers; ++l)
    if (values_[l].size() > values_[widest].size()) widest = l;
  QStringList columnNames;
  for (int h = 0; h < heads; ++h) {
    QString name = widest < columnLabels_.size() ? columnLabels_[widest].value(h) : QString();
    if (name.startsWith(QLatin1String("channels "))) name = name.mid(9);
    columnNames << (name.isEmpty() ? QString::number(h) : name);
  }
  int longest = 1;
  for (const QString& n : columnNames) longest = std::max(longest, int(n.size()));
  auto headTicker = QSharedPointer<QCPAxisTickerText>::create();
  const int step = std::max(1, heads / std::max(2, 32 / (longest + 1)));
  for (int h = 0; h < heads; h += step) headTicker->addTick(h, columnNames[h]);
  xAxis->setTicker(headTicker);
  xAxis->setRange(-0.5, heads - 0.5);
  yAxis->setRange(-0.5, layers - 0.5);
  setCurrentHead(currentLayer_, currentHead_);
  replot();
}

void LayerComparisonView::updateLayout() {
  applyFigureStyle();
  // The colour scale reports its current margins as its own need (QCPLayoutElement's
  // calculateAutoMargin), so the panels' margin group could only grow: a layout at the window's
  // width left a 2-inch export with the wide layout's margins. The group sets them again.
  colorScale_->setMargins(QMargins());
  // Under 3 in wide the panels' empty margins (QCPAxisRect's 15 units on every side) and the
  // rows' spacing (5) shrink toward 4 and 2, reached at 2 in: a thumbnail's height goes to the
  // panels, not to gaps. The top keeps half a tick label (the bars' highest decade label reaches
  // above its tick), the right half of the colour scale's last label (QCustomPlot drops a label
  // that would cross the figure's edge).
  const double thumbnail = std::clamp(3.0 - viewport().width() / layoutDpi(), 0.0, 1.0);
  const int side = int(std::lround(15 - 11 * thumbnail));
  const QFontMetricsF tickMetrics(colorScale_->axis()->tickLabelFont());
  const QVector<QString> labels = colorScale_->axis()->tickVectorLabels();
  const double last = tickMetrics.horizontalAdvance(labels.isEmpty() ? QStringLiteral("00") : labels.last());
  const int right = std::max(side, int(std::ceil(0.5 * last)) + 3);
  const int top = std::max(side, int(std::ceil(0.6 * QFontMetricsF(yAxis->tickLabelFont()).height())));
  for (QCPAxisRect* r : {barsRect_, xAxis->axisRect()}) r->setMinimumMargins(QMargins(side, top, right, side));
  colorScale_->setMinimumMargins(
      QMargins(0, int(std::lround(6 - 4 * thumbnail)), 0, int(std::lround(6 - 4 * thumbnail))));
  plotLayout()->setRowSpacing(int(std::lround(5 - 3 * thumbnail)));
  fitLegend();
  // Each grid row at least a tick label high, so the layer names stay apart.
  QCPAxisRect* grid = xAxis->axisRect();
  const double row = 1.25 * QFontMetricsF(yAxis->tickLabelFont()).height();
  grid->setProperty("figureMinHeight", int(std::ceil(row * std::max<int>(1, values_.size()))));
  fitLayerTicks();
  PlotView::updateLayout();
  // Then, with the panels' sizes known: the legend's columns, the layer ticks and the room above
  // the bars.
  bool changed = fitLegend();
  changed = fitLayerTicks() || changed;
  if (fitBars() || changed) PlotView::updateLayout();
}

bool LayerComparisonView::fitLegend() {
  // The bars' legend in as many columns as fit the width, no taller than its rows.
  return fitLegendColumns(barsLegend_, viewport().width(), 3);
}

bool LayerComparisonView::fitLayerTicks() {
  // The layer names beside the grid, or their indices where a name would take more than a
  // quarter of the figure's width (the hover readout and, where they fit, the bars name them).
  const QFontMetricsF fm(yAxis->tickLabelFont());
  const double most = viewport().width() / 4.0;
  QStringList labels;
  bool fit = true;
  for (int l = 0; l < values_.size(); ++l) {
    labels << layerLabel(l);
    fit = fit && fm.horizontalAdvance(labels.last()) <= most;
  }
  if (!fit)
    for (QString& label : labels)
      if (label.contains(QLatin1Char(':'))) label = label.section(QLatin1Char(':'), 0, 0);
  if (labels == layerTicks_) return false;
  layerTicks_ = labels;
  auto layerTicker = QSharedPointer<QCPAxisTickerText>::create();
  for (int l = 0; l < labels.size(); ++l) layerTicker->addTick(l, labels[l]);
  yAxis->setTicker(layerTicker);
  return true;
}

bool LayerComparisonView::fitBars() {
  QCPAxis* bx = barsRect_->axis(QCPAxis::atBottom);
  QCPAxis* by = barsRect_->axis(QCPAxis::atLeft);
  const int n = totals_.size();
  bool changed = false;
  // Layer names under the bars where they fit their slot, else the layer indices (the grid
  // below names each layer in full).
  const QFontMetricsF fm(bx->tickLabelFont());
  const double slot = barsRect_->width() / std::max(1.0, n + 0.2);
  double widest = 0;
  for (int l = 0; l < n; ++l) widest = std::max(widest, fm.horizontalAdvance(totals_[l].label));
  const int shortTicks = widest + fm.averageCharWidth() > slot ? 1 : 0;
  if (shortTicks != barTicksShort_) {
    barTicksShort_ = shortTicks;
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    for (int l = 0; l < n; ++l) {
      const QString& name = totals_[l].label;
      ticker->addTick(l, name.isEmpty() || shortTicks
                             ? (name.contains(QLatin1Char(':')) ? name.section(':', 0, 0) : QString::number(l))
                             : name);
    }
    bx->setTicker(ticker);
    changed = true;
  }
  // The utilization labels stand one line (and a gap) above the highest bar: on the log axis
  // that is `t` pixels of the panel's height h, so the top is x decades above the label's foot
  // with x = t * D0 / (h - t), D0 the decades from the axis bottom to the foot.
  if (n > 0 && barsRect_->height() > 0) {
    double labelHeight = 0;
    for (const QCPItemText* t : barLabels_) labelHeight = std::max(labelHeight, QFontMetricsF(t->font()).height());
    const double t = labelHeight + 4;
    const double h = std::max<double>(barsRect_->height(), 3 * t);
    const double foot = barsHigh_ * 1.15, bottom = by->range().lower;
    const double d0 = std::log10(foot / bottom);
    const double top = foot * std::pow(10.0, t * d0 / (h - t)) * 1.05;
    if (std::abs(std::log10(top / by->range().upper)) > 0.01) {
      by->setRange(bottom, top);
      changed = true;
    }
  }
  return changed;
}

void LayerComparisonView::setCurrentHead(int layer, int head) {
  currentLayer_ = layer;
  currentHead_ = head;
  const bool visible = layer >= 0 && head >= 0 && layer < values_.size() && head < values_[layer].size();
  current_->setVisible(visible);
  if (visible) {
    current_->topLeft->setCoords(head - 0.5, layer - 0.5);
    current_->bottomRight->setCoords(head + 0.5, layer + 0.5);
  }
  replot(QCustomPlot::rpQueuedReplot);
}

QPoint LayerComparisonView::cellAt(const QPointF& pos) const {
  if (!xAxis->axisRect()->rect().contains(pos.toPoint())) return {-1, -1};
  const int h = int(std::lround(xAxis->pixelToCoord(pos.x())));
  const int l = int(std::lround(yAxis->pixelToCoord(pos.y())));
  if (l < 0 || l >= values_.size() || h < 0 || h >= values_[l].size()) return {-1, -1};
  return {h, l};
}

QPointF LayerComparisonView::cellCenter(int layer, int head) const {
  return {xAxis->coordToPixel(head), yAxis->coordToPixel(layer)};
}

int LayerComparisonView::barLayerAt(const QPointF& pos) const {
  if (!barsRect_->rect().contains(pos.toPoint())) return -1;
  const int l = int(std::lround(barsRect_->axis(QCPAxis::atBottom)->pixelToCoord(pos.x())));
  return l >= 0 && l < totals_.size() ? l : -1;
}

QPointF LayerComparisonView::barCenter(int layer) const {
  return {barsRect_->axis(QCPAxis::atBottom)->coordToPixel(layer), double(barsRect_->rect().center().y())};
}

void LayerComparisonView::mousePressEvent(QMouseEvent* event) {
  pressPos_ = event->position();
  PlotView::mousePressEvent(event);
}

void LayerComparisonView::mouseReleaseEvent(QMouseEvent* event) {
  if (event->button() == Qt::LeftButton && (event->position() - pressPos_).manhattanLength() <= 3) {
    const QPoint cell = cellAt(event->position());
    if (cell.x() >= 0) emit headActivated(cell.y(), cell.x());
    const int layer = barLayerAt(event->position());
    if (layer >= 0) emit layerActivated(layer);
  }
  PlotView::mouseReleaseEvent(event);
}

void LayerComparisonView::mouseMoveEvent(QMouseEvent* event) {
  const QPoint cell = cellAt(event->position());
  const int barLayer = barLayerAt(event->position());
  if (cell.x() >= 0) {
    emit hoverChanged(tr("layer %1, %2: %3 = %4 (click to open)")
                          .arg(layerLabel(cell.y()))
                          .arg(columnLabel(cell.y(), cell.x()))
                          .arg(valueLabel_)
                          .arg(values_[cell.y()][cell.x()], 0, 'g', 5));
    setCursor(Qt::PointingHandCursor);
  } else if (barLayer >= 0) {
    const LayerTotals& t = totals_[barLayer];
    emit hoverChanged(tr("layer %1 total (means over splits): tolerance-ESS %2, entropy-ESS %3, TSS %4, "
                         "utilization %5 (click to open)")
                          .arg(t.label, shortNumber(t.tolerance), shortNumber(t.entropy), shortNumber(t.tss),
                               percent(t.utilization)));
    setCursor(Qt::PointingHandCursor);
  } else {
    unsetCursor();
  }
  PlotView::mouseMoveEvent(event);
}

QString LayerComparisonView::toCsv() const {
  const bool compare = !compare_.isEmpty();
  const QString b = compare ? nameB_ + QLatin1Char(',') + csvStep(stepB_) + QLatin1Char(',') : QString();
  QString out = compare ? QStringLiteral("checkpoint,step,") : QString();
  out += QStringLiteral("layer,head,mean_tolerance_ess,mean_entropy_ess,mean_tss,mean_utilization\n");
  const auto num = [](double v) { return std::isnan(v) ? QString() : csvNumber(v); };
  const auto totalRows = [&](const QVector<LayerTotals>& totals, const QString& checkpoint) {
    for (int l = 0; l < totals.size(); ++l) {
      const LayerTotals& t = totals[l];
      out += checkpoint + QString::number(l) + QStringLiteral(",total,") + num(t.tolerance) + QLatin1Char(',') +
             num(t.entropy) + QLatin1Char(',') + num(t.tss) + QLatin1Char(',') + num(t.utilization) + QLatin1Char('\n');
    }
  };
  totalRows(totals_, b);
  if (compare) totalRows(compare_, nameA_ + QLatin1Char(',') + csvStep(stepA_) + QLatin1Char(','));
  for (int l = 0; l < values_.size(); ++l)
    for (int h = 0; h < values_[l].size(); ++h)
      out += b + QString::number(l) + QLatin1Char(',') + columnLabel(l, h) + QLatin1Char(',') + num(values_[l][h]) +
             QStringLiteral(",,,\n");
  return out;
}
