#include "plot_view.h"

#include <QFontMetrics>
#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace {
// The title: as wide as its column, whatever its text (wrapTexts fits the text to it).
class TitleElement : public QCPTextElement {
 public:
  TitleElement(QCustomPlot* plot, const QFont& font) : QCPTextElement(plot, QString(), font) {}
  // No text (FigureStyle::Title::None): no room at all.
  QSize minimumOuterSizeHint() const override {
    return {0, text().isEmpty() ? 0 : QCPTextElement::minimumOuterSizeHint().height()};
  }
  QSize maximumOuterSizeHint() const override {
    return text().isEmpty() ? QSize(QWIDGETSIZE_MAX, 0) : QCPTextElement::maximumOuterSizeHint();
  }
};
}  // namespace

PlotView::PlotView(QWidget* parent) : QCustomPlot(parent) {
  setBackground(Qt::white);
  QFont labelFont = font();
  labelFont.setPointSizeF(10);
  QFont tickFont = font();
  tickFont.setPointSizeF(9);
  for (QCPAxis* axis : {xAxis, yAxis, xAxis2, yAxis2}) {
    axis->setLabelFont(labelFont);
    axis->setTickLabelFont(tickFont);
  }
  plotLayout()->insertRow(0);
  QFont titleFont = font();
  titleFont.setPointSizeF(10.5);
  titleFont.setBold(true);
  titleElement_ = new TitleElement(this, titleFont);
  plotLayout()->addElement(0, 0, titleElement_);
  setMouseTracking(true);
}

void PlotView::setSplitPoint(SplitPoint* split) {
  if (splitPoint_) disconnect(splitPoint_, nullptr, this, nullptr);
  splitPoint_ = split;
  if (split) {
    connect(split, &SplitPoint::splitChanged, this, [this](int s) { onSplitChanged(s); });
    connect(split, &SplitPoint::lengthChanged, this, [this](int l) { onLengthChanged(l); });
    onLengthChanged(split->length());
    onSplitChanged(split->split());
  }
}

QCPColorMap* PlotView::addColorMapWithScale(QCPColorScale** scale) {
  auto* map = new QCPColorMap(xAxis, yAxis);
  map->setInterpolate(false);
  map->setTightBoundary(false);
  auto* colorScale = new QCPColorScale(this);
  plotLayout()->addElement(1, 1, colorScale);
  colorScale->setType(QCPAxis::atRight);
  colorScale->setBarWidth(14);
  colorScale->axis()->setLabelFont(xAxis->labelFont());
  colorScale->axis()->setTickLabelFont(xAxis->tickLabelFont());
  map->setColorScale(colorScale);
  *scale = colorScale;
  return map;
}

QCPLegend* PlotView::addCentredLegendRow(int row) {
  auto* legendRow = new QCPLayoutGrid;
  legendRow->setColumnSpacing(0);
  for (int c : {0, 2}) {
    auto* spacer = new QCPLayoutElement(this);
    spacer->setMaximumSize(QWIDGETSIZE_MAX, 0);
    legendRow->addElement(0, c, spacer);
  }
  auto* l = new QCPLegend;
  legendRow->addElement(0, 1, l);
  plotLayout()->addElement(row, 0, legendRow);
  return l;
}

bool PlotView::fitLegendColumns(QCPLegend* legend, int available, int most) {
  const int n = legend->itemCount();
  QVector<int> widths(n, 0);
  for (int i = 0; i < n; ++i)
    if (QCPAbstractLegendItem* item = legend->item(i)) widths[i] = item->minimumOuterSizeHint().width();
  const QMargins m = legend->margins();
  int columns = 1;
  for (int c = std::min(most, n); c > 1 && columns == 1; --c) {
    // Filled columns first: entry i sits in column i % c.
    QVector<int> column(c, 0);
    for (int i = 0; i < n; ++i) column[i % c] = std::max(column[i % c], widths[i]);
    int total = m.left() + m.right() + (c - 1) * legend->columnSpacing();
    for (int w : column) total += w;
    if (total <= available) columns = c;
  }
  const bool changed = legend->wrap() != columns;
  if (changed) {
    legend->setWrap(columns);
    legend->setFillOrder(QCPLayoutGrid::foColumnsFirst, true);
  }
  legend->setMaximumSize(QWIDGETSIZE_MAX, std::max(1, legend->minimumOuterSizeHint().height() - m.top() - m.bottom()));
  return changed;
}

void PlotView::setTitle(const QString& title) {
  fullTitle_ = title;
  titleElement_->setText(title);
}

QString PlotView::title() const { return fullTitle_; }

namespace {
// The screen style's sizes are the views' design sizes; pens and paddings are in 1/96 in.
constexpr double kDesignFontPt = 9.0;
constexpr double kDesignDpi = 96.0;

QFont styled(QObject* owner, const char* key, const QFont& current, const FigureStyle& style) {
  QVariant design = owner->property(key);
  if (!design.isValid()) {
    design = current.pointSizeF() > 0 ? current.pointSizeF() : kDesignFontPt;
    owner->setProperty(key, design);
  }
  QFont f = current;
  if (!style.fontFamily.isEmpty()) f.setFamily(style.fontFamily);
  f.setPointSizeF(design.toDouble() * style.baseFontSize() / kDesignFontPt);
  // Unhinted metrics scale with the painter, so text measured at layout size fits when drawn
  // scaled on an export image.
  f.setHintingPreference(QFont::PreferNoHinting);
  return f;
}

QPen styledPen(QObject* owner, const QPen& current, double scale) {
  QVariant design = owner->property("figurePenWidth");
  if (!design.isValid()) {
    design = current.widthF();
    owner->setProperty("figurePenWidth", design);
  }
  QPen p = current;
  if (design.toDouble() > 0) p.setWidthF(design.toDouble() * scale);
  return p;
}
// Defined below, with wrapTexts.
QString wrapText(const QString& text, const QFont& font, double available, int maxLines);
}  // namespace

int PlotView::labelLength(QCPAxis* axis, int maxLines) {
  // The full title (wrapTexts keeps it in "figureFullLabel" once it has wrapped it).
  const QString full =
      axis->property("figureWrappedLabel").toString() == axis->label() && axis->property("figureFullLabel").isValid()
          ? axis->property("figureFullLabel").toString()
          : axis->label();
  if (full.isEmpty()) return 0;
  const QString key = full + QLatin1Char('\t') + QString::number(axis->labelFont().pointSizeF()) +
                      axis->labelFont().family() + QString::number(maxLines);
  if (axis->property("figureLabelLengthKey").toString() == key) return axis->property("figureLabelLength").toInt();
  const auto uncut = [&](int length) {
    return !wrapText(full, axis->labelFont(), std::max(30, length), maxLines).contains(QChar(0x2026));
  };
  int lo = 30, hi = int(std::ceil(1.1 * QFontMetricsF(axis->labelFont()).horizontalAdvance(full))) + 2;
  if (full.contains(QChar(0x2026)) || uncut(lo)) {
    hi = lo;
  } else {
    while (hi - lo > 1) {
      const int mid = (lo + hi) / 2;
      (uncut(mid) ? hi : lo) = mid;
    }
  }
  axis->setProperty("figureLabelLengthKey", key);
  axis->setProperty("figureLabelLength", hi);
  return hi;
}

bool FigureStyle::presetFromName(const QString& name, Preset* preset) {
  if (name == QLatin1String("screen"))
    *preset = Preset::Screen;
  else if (name == QLatin1String("paper"))
    *preset = Preset::Paper;
  else
    return false;
  return true;
}

double layoutDpi() {
  extern Q_GUI_EXPORT int qt_defaultDpiY();
  return qt_defaultDpiY() > 0 ? qt_defaultDpiY() : kDesignDpi;
}

void PlotView::setFigureStyle(const FigureStyle& style) {
  style_ = style;
  applyFigureStyle();
}

double PlotView::compactness() const {
  if (style_.preset == FigureStyle::Preset::Paper || style_.fontSize > 0) return 0;
  const double inches = viewport().width() / layoutDpi();
  return std::clamp(3.0 - inches, 0.0, 1.0);
}

void PlotView::applyFigureStyle() {
  const bool paper = style_.preset == FigureStyle::Preset::Paper;
  const double px = layoutDpi() / kDesignDpi;  // layout units per design pixel
  const double lines = px * style_.lineScale();
  // The screen style under 3 in wide (thumbnails, narrow panes): text and paddings shrink toward
  // the paper style's, reaching them at 2 in, so that no text is squeezed (an explicit font size
  // is kept).
  const double compact = paper ? 1.0 : compactness();
  FigureStyle style = style_;
  if (!paper && compact > 0) style.fontSize = 9.0 - compact * (9.0 - 7.5);
  const auto pad = [&](int screen, int tight) {
    return int(std::lround((screen + compact * (std::min(screen, tight) - screen)) * px));
  };
  QList<QCPAxis*> axes;
  for (QCPAxisRect* rect : axisRects()) axes += rect->axes();
  for (QCPLayoutElement* e : plotLayout()->elements(true)) {
    if (auto* scale = qobject_cast<QCPColorScale*>(e)) {
      axes << scale->axis();
      if (!scale->property("figureBarWidth").isValid()) scale->setProperty("figureBarWidth", scale->barWidth());
      scale->setBarWidth(pad(scale->property("figureBarWidth").toInt(), 9));
    } else if (auto* text = qobject_cast<QCPTextElement*>(e)) {
      text->setFont(styled(text, "figureFontPt", text->font(), style));
    }
  }
  for (QCPAxis* a : axes) {
    if (!a) continue;
    a->setLabelFont(styled(a, "figureLabelPt", a->labelFont(), style));
    a->setTickLabelFont(styled(a, "figureTickPt", a->tickLabelFont(), style));
    if (!a->property("figurePadding").isValid()) {
      a->setProperty("figurePadding", a->padding());
      a->setProperty("figureLabelPadding", a->labelPadding());
      a->setProperty("figureTickLabelPadding", a->tickLabelPadding());
    }
    a->setPadding(pad(a->property("figurePadding").toInt(), 2));
    a->setLabelPadding(pad(a->property("figureLabelPadding").toInt(), 2));
    a->setTickLabelPadding(pad(a->property("figureTickLabelPadding").toInt(), 3));
  }
  // Small figures: the plot shrinks before any text is squeezed, but not below a height its view
  // asks for (property "figureMinHeight", layout units) nor below the length its axis titles
  // need to fit in three lines uncut (a colour scale's in two).
  for (QCPAxisRect* rect : axisRects()) {
    int width = pad(24, 24), height = std::max(pad(24, 24), rect->property("figureMinHeight").toInt());
    for (QCPAxis* a : rect->axes())
      if (a->visible()) {
        const int need = labelLength(a, 3);
        (a->orientation() == Qt::Horizontal ? width : height) =
            std::max(need, a->orientation() == Qt::Horizontal ? width : height);
      }
    rect->setMinimumSize(width, height);
  }
  for (QCPLayoutElement* e : plotLayout()->elements(true))
    if (auto* scale = qobject_cast<QCPColorScale*>(e)) {
      const int need = labelLength(scale->axis(), 2);
      // The bar's length plus the scale's margins (its axis rect is inset by them).
      const QMargins m = scale->axis()->axisRect()->margins();
      if (scale->axis()->orientation() == Qt::Horizontal)
        scale->setMinimumSize(need > 0 ? need + m.left() + m.right() : 0, 0);
      else
        scale->setMinimumSize(0, need > 0 ? need + m.top() + m.bottom() : 0);
    }
  // Every legend: inside a plot (inset) or in a row of the layout (the position view's).
  for (QCPLayoutElement* e : plotLayout()->elements(true))
    if (auto* l = qobject_cast<QCPLegend*>(e)) {
      l->setFont(styled(l, "figureFontPt", l->font(), style));
      l->setIconSize(pad(32, 20), pad(18, 11));
      l->setMargins(QMargins(pad(7, 4), pad(5, 2), pad(7, 4), pad(4, 2)));
    }
  for (int i = 0; i < itemCount(); ++i) {
    QCPAbstractItem* it = item(i);
    if (auto* t = qobject_cast<QCPItemText*>(it)) {
      t->setFont(styled(t, "figureFontPt", t->font(), style));
      t->setPen(styledPen(t, t->pen(), lines));
    } else if (auto* sl = qobject_cast<QCPItemStraightLine*>(it)) {
      sl->setPen(styledPen(sl, sl->pen(), lines));
    } else if (auto* l = qobject_cast<QCPItemLine*>(it)) {
      l->setPen(styledPen(l, l->pen(), lines));
    } else if (auto* r = qobject_cast<QCPItemRect*>(it)) {
      r->setPen(styledPen(r, r->pen(), lines));
    }
  }
  for (int i = 0; i < plottableCount(); ++i) {
    QCPAbstractPlottable* p = plottable(i);
    p->setPen(styledPen(p, p->pen(), lines));
    if (auto* g = qobject_cast<QCPGraph*>(p)) {
      QCPScatterStyle sc = g->scatterStyle();
      if (sc.shape() != QCPScatterStyle::ssNone) {
        if (!g->property("figureScatterSize").isValid()) g->setProperty("figureScatterSize", sc.size());
        sc.setSize(g->property("figureScatterSize").toDouble() * lines);
        g->setScatterStyle(sc);
      }
    }
  }
}

namespace {
// `text` broken at clause commas, then at spaces, into lines no wider than `available` (a word
// longer than that is cut in its middle), at most `maxLines` of them (the last ends in an
// ellipsis when cut).
QString wrapText(const QString& text, const QFont& font, double available, int maxLines) {
  const QFontMetricsF metrics(font);
  // A small margin covers antialiased bold text.
  const auto width = [&](const QString& s) { return 1.06 * metrics.horizontalAdvance(s); };
  QStringList lines;
  for (const QString& paragraph : text.split(QLatin1Char('\n'))) {
    // Whole clauses first ("s = 32: tolerance-ESS 26, entropy-ESS 10.9," / "TSS 64"), words
    // only within a clause wider than the line: a title never strands a number from its name.
    QStringList clauses = paragraph.split(QStringLiteral(", "));
    for (int i = 0; i + 1 < clauses.size(); ++i) clauses[i] += QLatin1Char(',');
    QString line;
    // A word too long for a line breaks after its hyphens ("tolerance-" / "ESS").
    const auto add = [&](const QString& word) {
      QStringList pieces{word};
      if (width(word) > available && word.contains(QLatin1Char('-'))) {
        pieces = word.split(QLatin1Char('-'));
        for (int i = 0; i + 1 < pieces.size(); ++i) pieces[i] += QLatin1Char('-');
      }
      for (int i = 0; i < pieces.size(); ++i) {
        const QString& piece = pieces[i];
        const QString gap = i == 0 ? QStringLiteral(" ") : QString();
        const QString longer = line.isEmpty() ? piece : line + gap + piece;
        if (!line.isEmpty() && width(longer) > available) {
          lines << line;
          line = piece;
        } else {
          line = longer;
        }
      }
    };
    for (const QString& clause : clauses) {
      const QString longer = line.isEmpty() ? clause : line + QLatin1Char(' ') + clause;
      if (width(longer) <= available) {
        line = longer;
        continue;
      }
      if (!line.isEmpty()) {
        lines << line;
        line.clear();
      }
      for (const QString& word : clause.split(QLatin1Char(' '))) add(word);
    }
    lines << line;
  }
  for (QString& l : lines)
    if (width(l) > available) l = metrics.elidedText(l, Qt::ElideMiddle, available / 1.06);
  if (lines.size() > maxLines) {
    lines = lines.mid(0, std::max(1, maxLines));
    lines.last() =
        metrics.elidedText(lines.last() + QStringLiteral(" \u2026\u2026\u2026"), Qt::ElideRight, available / 1.06);
  }
  return lines.join(QLatin1Char('\n'));
}
}  // namespace

bool PlotView::wrapTexts() {
  bool changed = false;
  // The title: to the width of its layout cell, in at most a seventh of the height (1-4 lines).
  const QString fullTitle = style_.title == FigureStyle::Title::Auto     ? fullTitle_
                            : style_.title == FigureStyle::Title::Custom ? style_.titleText
                                                                         : QString();
  titleElement_->setVisible(!fullTitle.isEmpty());
  const double lineHeight = QFontMetricsF(titleElement_->font()).lineSpacing();
  // (The height counts up to 1.2 x the width, so that a tall layout probe gets the lines of
  // the figure it measures: HeatmapView::tightHeight.)
  const double height = std::min(viewport().height(), int(1.2 * viewport().width()));
  const int maxLines = std::clamp(int(height / 7.0 / std::max(1.0, lineHeight)), 1, 4);
  // The title's layout cell (it never widens it: TitleElement).
  const double available = std::max(30, titleElement_->outerRect().width() - 6);
  const QString wrapped = wrapText(fullTitle, titleElement_->font(), available, maxLines);
  if (titleElement_->text() != wrapped) {
    titleElement_->setText(wrapped);
    changed = true;
  }
  // Axis titles: to the length of their axis (a label the view set anew replaces the old).
  QList<QCPAxis*> axes;
  for (QCPAxisRect* rect : axisRects()) axes += rect->axes();
  for (QCPLayoutElement* e : plotLayout()->elements(true))
    if (auto* scale = qobject_cast<QCPColorScale*>(e)) axes << scale->axis();
  for (QCPAxis* a : axes) {
    const QCPAxisRect* rect = a ? a->axisRect() : nullptr;
    if (!rect) continue;
    if (a->property("figureWrappedLabel").toString() != a->label()) a->setProperty("figureFullLabel", a->label());
    const QString full = a->property("figureFullLabel").toString();
    const int length = a->orientation() == Qt::Horizontal ? rect->width() : rect->height();
    if (full.isEmpty() || length <= 0) continue;
    const QString label = wrapText(full, a->labelFont(), std::max(30, length), 3);
    a->setProperty("figureWrappedLabel", label);
    if (a->label() != label) {
      a->setLabel(label);
      changed = true;
    }
  }
  return changed;
}

int PlotView::minimumHeight(int width) {
  const QRect old = viewport();
  setViewport(QRect(0, 0, width, std::max(old.height(), width)));
  updateLayout();
  int height = plotLayout()->minimumOuterSizeHint().height();
  // Laid out at that height, texts may wrap differently and ask for more: take the larger.
  for (int pass = 0; pass < 2; ++pass) {
    setViewport(QRect(0, 0, width, height));
    updateLayout();
    const int need = plotLayout()->minimumOuterSizeHint().height();
    if (need <= height) break;
    height = need;
  }
  setViewport(old);
  updateLayout();
  return height;
}

void PlotView::updateLayout() {
  applyFigureStyle();
  // Figures are measured and painted at the layout dpi (figure export paints on devices of
  // that dpi). Lay out, wrap the texts to the room they got, lay out again if that changed.
  QCustomPlot::updateLayout();
  for (int pass = 0; pass < 2; ++pass) {
    const bool ticks = fitTickCounts();
    if (!wrapTexts() && !ticks) break;
    QCustomPlot::updateLayout();
  }
}

namespace {
// Whether `axis`'s tick labels, made by its ticker with `count` ticks asked for, would lie
// closer than a small gap to one another where the axis is laid out now.
bool tickLabelsCollide(QCPAxis* axis, int count) {
  QCPAxisTicker* ticker = axis->ticker().data();
  const int asked = ticker->tickCount();
  ticker->setTickCount(count);
  QVector<double> ticks;
  QVector<QString> labels;
  const QString format = axis->numberFormat();
  ticker->generate(axis->range(), axis->parentPlot()->locale(), format.isEmpty() ? QLatin1Char('g') : format.at(0),
                   axis->numberPrecision(), ticks, nullptr, &labels);
  ticker->setTickCount(asked);
  const QFontMetricsF fm(axis->tickLabelFont());
  const bool horizontal = axis->orientation() == Qt::Horizontal;
  QVector<std::pair<double, double>> spans;
  for (int i = 0; i < ticks.size() && i < labels.size(); ++i) {
    if (labels[i].isEmpty() || !axis->range().contains(ticks[i])) continue;
    const QRectF r = fm.boundingRect(QRectF(), Qt::TextDontClip | Qt::AlignCenter, labels[i]);
    const double at = axis->coordToPixel(ticks[i]), half = (horizontal ? r.width() : r.height()) / 2;
    spans.append({at - half, at + half});
  }
  std::sort(spans.begin(), spans.end());
  const double gap = horizontal ? fm.averageCharWidth() : 0.2 * fm.height();
  for (int i = 1; i < spans.size(); ++i)
    if (spans[i].first < spans[i - 1].second + gap) return true;
  return false;
}
}  // namespace

bool PlotView::fitTickCounts() {
  bool changed = false;
  QList<QCPAxis*> axes;
  for (QCPAxisRect* rect : axisRects()) axes += rect->axes();
  for (QCPLayoutElement* e : plotLayout()->elements(true))
    if (auto* scale = qobject_cast<QCPColorScale*>(e)) axes << scale->axis();
  for (QCPAxis* a : axes) {
    if (!a || !a->visible() || !a->ticker() || qSharedPointerDynamicCast<QCPAxisTickerText>(a->ticker())) continue;
    const QFontMetricsF fm(a->tickLabelFont());
    const bool horizontal = a->orientation() == Qt::Horizontal;
    const QRect r = a->axisRect()->rect();
    const double length = horizontal ? r.width() : r.height();
    if (length <= 0) continue;
    // Room per label: the widest label now (at least four digits) and a gap; two lines high.
    double widest = fm.horizontalAdvance(QStringLiteral("0000"));
    for (const QString& label : a->tickVectorLabels()) widest = std::max(widest, fm.boundingRect(label).width());
    const double per = horizontal ? 1.5 * widest + 8 : 2.2 * fm.height();
    int count = std::clamp(int(length / per), 1, 6);
    // Fewer where the ticks made of that count still collide: a tick step is rounded to a nice
    // one, which can give more ticks than asked for (0..1 in 3: 0, 0.25, ..., 1).
    while (count > 1 && tickLabelsCollide(a, count)) --count;
    if (a->ticker()->tickCount() != count) {
      a->ticker()->setTickCount(count);
      changed = true;
    }
  }
  return changed;
}

double IndexTicker::getTickStep(const QCPRange& range) {
  const double raw = std::max(1.0, range.size() / double(std::max(1, tickCount() + 1)));
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * magnitude >= raw - 1e-9) return m * magnitude;
  return 10.0 * magnitude;
}

int IndexTicker::getSubTickCount(double tickStep) {
  // Sub-ticks at whole numbers: 1 none; 2 one; 5 four; 10, 100, ...: four (every 2, 20, ...).
  const double mantissa = tickStep / std::pow(10.0, std::floor(std::log10(tickStep) + 1e-9));
  if (tickStep <= 1.0) return 0;
  if (std::abs(mantissa - 2.0) < 1e-6) return 1;
  return 4;
}

double DecadeTicker::getTickStep(const QCPRange& range) {
  const double lo = std::log10(std::max(range.lower, std::numeric_limits<double>::min()));
  const double hi = std::log10(std::max(range.upper, std::numeric_limits<double>::min()));
  const double span = std::max(1.0, hi - lo);
  const double most = std::max(2, tickCount() + 2);
  for (double step : {1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0})
    if (span / step <= most) return step;
  return 100.0;
}

int DecadeTicker::getSubTickCount(double tickStep) { return tickStep <= 1.0 && tickCount() >= 3 ? 8 : 0; }

QVector<double> DecadeTicker::createTickVector(double tickStep, const QCPRange& range) {
  QVector<double> ticks;
  if (range.lower <= 0 || range.upper <= 0) return ticks;
  const int step = std::max(1, int(std::lround(tickStep)));
  int first = int(std::floor(std::log10(range.lower)));
  first -= ((first % step) + step) % step;  // on a multiple of the step
  const int last = int(std::ceil(std::log10(range.upper)));
  for (int e = first; e <= last + step; e += step) ticks.append(std::pow(10.0, e));
  return ticks;
}

QVector<double> DecadeTicker::createSubTickVector(int subTickCount, const QVector<double>& ticks) {
  QVector<double> sub;
  if (subTickCount <= 0) return sub;
  for (int i = 0; i + 1 < ticks.size(); ++i)
    for (int m = 2; m <= 9; ++m) sub.append(ticks[i] * m);
  return sub;
}

QString csvNumber(double v) {
  if (std::isnan(v)) return QStringLiteral("nan");
  if (std::isinf(v)) return v > 0 ? QStringLiteral("inf") : QStringLiteral("-inf");
  return QString::number(v, 'g', QLocale::FloatingPointShortest);
}

QString csvStep(qint64 step) { return step >= 0 ? QString::number(step) : QString(); }
