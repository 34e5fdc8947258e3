#include "position_ess_view.h"

#include <QFontMetrics>
#include <QMouseEvent>
#include <algorithm>
#include <cmath>
#include <limits>

#include "colormaps.h"

namespace {

constexpr int kMaxLabelChars = 12;  // longer token labels are elided on the axis

QString csvField(const QString& text) {
  if (!text.contains(QLatin1Char(',')) && !text.contains(QLatin1Char('"')) && !text.contains(QLatin1Char('\n')) &&
      !text.contains(QLatin1Char('\r')))
    return text;
  QString quoted = text;
  quoted.replace(QLatin1String("\""), QLatin1String("\"\""));
  return QLatin1Char('"') + quoted + QLatin1Char('"');
}

}  // namespace

/// Band colours of the MQAR roles (key, value, query), translucent over the grid.
static QColor roleColor(int role, int alpha) {
  static const QColor colors[] = {QColor(60, 120, 220), QColor(40, 160, 80), QColor(210, 50, 150)};
  QColor c = colors[role];
  c.setAlpha(alpha);
  return c;
}

PositionEssView::PositionEssView(QWidget* parent) : PlotView(parent) {
  ticker_.reset(new QCPAxisTickerText);
  // The legend goes below the plots (rebuild() keeps it in the last layout row), centred
  // between two spacers, as many columns as fit (fitLegend).
  axisRect()->insetLayout()->take(legend);
  axisRect()->insetLayout()->simplify();
  legendRow_ = new QCPLayoutGrid;
  legendRow_->setColumnSpacing(0);
  for (int c : {0, 2}) {
    auto* spacer = new QCPLayoutElement(this);
    spacer->setMaximumSize(QWIDGETSIZE_MAX, 0);
    legendRow_->addElement(0, c, spacer);
  }
  legendRow_->addElement(0, 1, legend);
  legend->setBorderPen(Qt::NoPen);
  legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
  plotLayout()->addElement(plotLayout()->rowCount(), 0, legendRow_);
  axisRect()->setRangeZoom(Qt::Horizontal);
  axisRect()->setRangeDrag(Qt::Horizontal);
  setInteractions(QCP::iRangeZoom | QCP::iRangeDrag);
  clear();
}

namespace {
// A band over position i of `rect`, the full height of the plot, behind the curves.
QCPItemRect* positionBand(QCustomPlot* plot, QCPAxisRect* rect, int i, const QPen& pen, const QBrush& brush) {
  auto* band = new QCPItemRect(plot);
  band->setLayer(QStringLiteral("grid"));
  band->setClipAxisRect(rect);
  for (QCPItemPosition* p : {band->topLeft, band->bottomRight}) {
    p->setAxisRect(rect);
    p->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
    p->setTypeX(QCPItemPosition::ptPlotCoords);
    p->setTypeY(QCPItemPosition::ptAxisRectRatio);
  }
  band->topLeft->setCoords(i, 0);
  band->bottomRight->setCoords(i + 1, 1);
  band->setPen(pen);
  band->setBrush(brush);
  return band;
}
}  // namespace

void PositionEssView::clear() {
  rows_.clear();
  tokens_.clear();
  baseTitle_ = tr("ESS over position");
  rebuild();
}

void PositionEssView::setRows(const QVector<PositionRow>& rows, const QStringList& tokens, const QString& title) {
  rows_ = rows;
  tokens_ = tokens;
  baseTitle_ = title.isEmpty() ? tr("ESS over position") : title;
  rebuild();
}

QString PositionEssView::displayToken(const QString& token) {
  if (token.isEmpty()) return QStringLiteral("''");
  QString s = token;
  s.replace(QLatin1Char('\n'), QLatin1String("\\n"));
  s.replace(QLatin1Char('\t'), QLatin1String("\\t"));
  s.replace(QLatin1Char('\r'), QLatin1String("\\r"));
  return s;
}

QStringList PositionEssView::parseMarks(const QString& text) {
  QStringList marks;
  QString current;
  auto flush = [&] {
    // Trim only unescaped surrounding spaces: the escapes were already replaced by their
    // characters, which trimmed() would eat, so trim before unescaping.
    QString raw = current.trimmed();
    current.clear();
    if (raw.isEmpty()) return;
    QString out;
    for (int i = 0; i < raw.size(); ++i) {
      if (raw[i] == QLatin1Char('\\') && i + 1 < raw.size()) {
        const QChar c = raw[i + 1];
        if (c == QLatin1Char('n'))
          out += QLatin1Char('\n');
        else if (c == QLatin1Char('t'))
          out += QLatin1Char('\t');
        else if (c == QLatin1Char('r'))
          out += QLatin1Char('\r');
        else if (c == QLatin1Char(',') || c == QLatin1Char('\\'))
          out += c;
        else
          out += raw[i], out += c;
        ++i;
      } else {
        out += raw[i];
      }
    }
    if (!marks.contains(out)) marks << out;
  };
  for (int i = 0; i < text.size(); ++i) {
    if (text[i] == QLatin1Char('\\') && i + 1 < text.size()) {
      current += text[i];
      current += text[i + 1];
      ++i;
    } else if (text[i] == QLatin1Char(',')) {
      flush();
    } else {
      current += text[i];
    }
  }
  flush();
  return marks;
}

void PositionEssView::setMarkedTokens(const QStringList& marks) {
  marks_ = marks;
  rebuildMarks();
  replot(QCustomPlot::rpQueuedReplot);
}

QVector<int> PositionEssView::markedPositions() const {
  QVector<int> positions;
  if (marks_.isEmpty()) return positions;
  // Tokenizer labels show whitespace visibly (newline as U+23CE, tab as U+2192, space as
  // U+00B7); a mark such as "\n" matches either spelling.
  auto plain = [](QString label) {
    return label.replace(QChar(0x23CE), QLatin1Char('\n'))
        .replace(QChar(0x2192), QLatin1Char('\t'))
        .replace(QChar(0x00B7), QLatin1Char(' '));
  };
  for (int i = 0; i < tokens_.size(); ++i)
    if (marks_.contains(tokens_[i]) || marks_.contains(plain(tokens_[i]))) positions << i;
  return positions;
}

void PositionEssView::rebuild() {
  // Drop the rows of the previous data (the first row is the default axis rect).
  clearItems();
  bands_.clear();
  cursors_.clear();
  clearGraphs();
  for (int i = 1; i < rects_.size(); ++i) plotLayout()->remove(rects_[i]);
  plotLayout()->take(legendRow_);
  plotLayout()->simplify();
  rects_.clear();
  rects_ << axisRect();
  roleBands_.clear();  // clearItems() deleted them; the legend's bars go in rebuildRoles()

  const int n = std::max<int>(1, rows_.size());
  for (int r = 1; r < n; ++r) {
    auto* rect = new QCPAxisRect(this);
    plotLayout()->addElement(r + 1, 0, rect);
    rect->setRangeZoom(Qt::Horizontal);
    rect->setRangeDrag(Qt::Horizontal);
    for (QCPAxis* axis : rect->axes()) {
      axis->setLabelFont(xAxis->labelFont());
      axis->setTickLabelFont(xAxis->tickLabelFont());
    }
    rects_ << rect;
  }
  plotLayout()->addElement(plotLayout()->rowCount(), 0, legendRow_);
  plotLayout()->setRowStretchFactor(plotLayout()->rowCount() - 1, 0.001);
  // Small multiples share the x axis: their margins line up and their ranges follow the first.
  if (!marginGroup_) marginGroup_ = new QCPMarginGroup(this);
  for (QCPAxisRect* rect : rects_) rect->setMarginGroup(QCP::msLeft | QCP::msRight, marginGroup_);

  const bool tokensShown = !tokens_.isEmpty();
  for (int r = 0; r < rects_.size(); ++r) {
    QCPAxisRect* rect = rects_[r];
    QCPAxis* x = rect->axis(QCPAxis::atBottom);
    QCPAxis* y = rect->axis(QCPAxis::atLeft);
    const bool bottom = r == rects_.size() - 1;
    if (tokensShown)
      x->setTicker(ticker_);
    else
      x->setTicker(QSharedPointer<IndexTicker>::create());
    x->setTickLabels(bottom);
    x->setLabel(bottom ? (tokensShown ? tr("token (split s lies before token s)") : tr("split s")) : QString());
    disconnect(x, nullptr, this, nullptr);
    connect(x, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, [this, x](const QCPRange& range) {
      if (updatingRange_) return;
      updatingRange_ = true;
      for (QCPAxisRect* other : rects_)
        if (other->axis(QCPAxis::atBottom) != x) other->axis(QCPAxis::atBottom)->setRange(range);
      updatingRange_ = false;
      updateTicks();
    });
    if (r < rows_.size()) {
      const PositionRow& row = rows_[r];
      y->setLabel(rows_.size() > 1 ? tr("layer %1").arg(row.layer) : tr("effective state-size"));
      // Compare: B in the first two colours, A in the next two, each named by its checkpoint.
      const bool compare = !row.compare.splits.isEmpty();
      for (int k = 0; k < (compare ? 2 : 1); ++k) {
        const EssSeries& series = k == 0 ? row.series : row.compare;
        const QString prefix = compare ? series.checkpoint + QStringLiteral(": ") : QString();
        QCPGraph* tol = addGraph(x, y);
        tol->setName(prefix + (series.isTotal() ? tr("total tolerance-ESS") : tr("tolerance-ESS")));
        tol->setPen(QPen(colormaps::seriesColor(2 * k), 1.6));
        tol->setData(series.splits, series.tolerance, true);
        QCPGraph* ent = addGraph(x, y);
        ent->setName(prefix + (series.isTotal() ? tr("total entropy-ESS") : tr("entropy-ESS")));
        ent->setPen(QPen(colormaps::seriesColor(2 * k + 1), 1.6, Qt::DashLine));
        ent->setData(series.splits, series.entropy, true);
        if (r != 0) tol->removeFromLegend(), ent->removeFromLegend();
      }
    } else {
      y->setLabel(tr("effective state-size"));
    }
    auto* cursor = new QCPItemStraightLine(this);
    cursor->setClipAxisRect(rect);
    for (QCPItemPosition* p : {cursor->point1, cursor->point2}) p->setAxes(x, y);
    cursor->setPen(QPen(QColor(255, 60, 60), 1.2));
    cursor->setVisible(false);
    cursors_ << cursor;
  }
  legend->setVisible(!rows_.isEmpty());
  QFont lf = font();
  lf.setPointSizeF(8.5);
  legend->setFont(lf);
  legend->setBrush(Qt::NoBrush);

  setTitle(baseTitle_);
  rebuildMarks();
  rebuildRoles();
  resetView();
  updateCursors();
  replot();
}

void PositionEssView::rebuildMarks() {
  for (QCPItemRect* band : bands_) removeItem(band);
  bands_.clear();
  const QVector<int> positions = markedPositions();
  for (QCPAxisRect* rect : rects_) {
    for (int i : positions) {
      bands_ << positionBand(this, rect, i, QPen(QColor(230, 150, 40, 160), 0.8), QColor(255, 190, 90, 90));
    }
  }
}

void PositionEssView::setPositionRoles(const QVector<int>& keys, const QVector<int>& values,
                                       const QVector<int>& queries) {
  keys_ = keys;
  values_ = values;
  queries_ = queries;
  rebuildRoles();
  updateTicks();
  replot(QCustomPlot::rpQueuedReplot);
}

QString PositionEssView::roleAt(int position) const {
  if (keys_.contains(position)) return tr("key");
  if (values_.contains(position)) return tr("value");
  if (queries_.contains(position)) return tr("query");
  return QString();
}

void PositionEssView::rebuildRoles() {
  for (QCPItemRect* band : roleBands_) removeItem(band);
  roleBands_.clear();
  for (QCPBars* bars : roleLegend_) removePlottable(bars);
  roleLegend_.clear();
  if (!hasPositionRoles() || rects_.isEmpty()) return;
  const QVector<int>* roles[] = {&keys_, &values_, &queries_};
  const QString names[] = {tr("MQAR key"), tr("MQAR value"), tr("MQAR query")};
  for (int role = 0; role < 3; ++role) {
    for (QCPAxisRect* rect : rects_) {
      for (int i : *roles[role]) {
        roleBands_ << positionBand(this, rect, i, Qt::NoPen, roleColor(role, 60));
      }
    }
    // An entry in the legend: bars without data, in the band's colour.
    auto* entry = new QCPBars(xAxis, yAxis);
    entry->setName(names[role]);
    entry->setPen(QPen(roleColor(role, 200), 0.8));
    entry->setBrush(roleColor(role, 90));
    roleLegend_ << entry;
  }
}

void PositionEssView::fitLegend() { fitLegendColumns(legend, viewport().width(), 5); }

void PositionEssView::resetView() {
  double xmax = tokens_.size();
  double ymax = 0;
  for (const PositionRow& row : rows_) {
    for (const EssSeries* series : {&row.series, &row.compare}) {
      for (double s : series->splits) xmax = std::max(xmax, s + 1);
      for (double v : series->tolerance)
        if (std::isfinite(v)) ymax = std::max(ymax, v);
      for (double v : series->entropy)
        if (std::isfinite(v)) ymax = std::max(ymax, v);
    }
  }
  if (xmax <= 0) xmax = 1;
  if (ymax <= 0) ymax = 1;
  updatingRange_ = true;
  for (QCPAxisRect* rect : rects_) {
    rect->axis(QCPAxis::atBottom)->setRange(0, xmax);
    rect->axis(QCPAxis::atLeft)->setRange(0, ymax * 1.12);
  }
  updatingRange_ = false;
  updateTicks();
}

QVector<int> PositionEssView::visibleLabelPositions() const { return labelPositions_; }

namespace {
// Stretch factors share out the rows' outer heights, so the bottom row's tick labels and axis
// label would leave its plot shorter than the others: sets the rows' factors so that every plot
// gets the same height; true when one changed.
bool equalizeRowHeights(QCPLayoutGrid* layout, const QVector<QCPAxisRect*>& rects) {
  if (rects.size() < 2) return false;
  double outer = 0, margins = 0;
  for (QCPAxisRect* rect : rects) {
    outer += rect->outerRect().height();
    margins += rect->outerRect().height() - rect->rect().height();
  }
  const double inner = (outer - margins) / rects.size();
  if (inner <= 0) return false;
  bool changed = false;
  for (int row = 0; row < layout->rowCount(); ++row) {
    auto* rect = qobject_cast<QCPAxisRect*>(layout->element(row, 0));
    if (!rect || !rects.contains(rect)) continue;
    const double stretch = (inner + rect->outerRect().height() - rect->rect().height()) / inner;
    if (std::abs(layout->rowStretchFactors().value(row) - stretch) > 0.01) {
      layout->setRowStretchFactor(row, stretch);
      changed = true;
    }
  }
  return changed;
}
}  // namespace

void PositionEssView::updateLayout() {
  applyFigureStyle();
  fitLegend();
  // Equal stretch first, so that the layout depends on the size only (not on the last one).
  for (int row = 0; row < plotLayout()->rowCount(); ++row)
    if (rects_.contains(qobject_cast<QCPAxisRect*>(plotLayout()->element(row, 0))))
      plotLayout()->setRowStretchFactor(row, 1);
  PlotView::updateLayout();
  if (updateTicks()) PlotView::updateLayout();
  if (equalizeRowHeights(plotLayout(), rects_)) PlotView::updateLayout();
}

bool PositionEssView::updateTicks() {
  const QVector<int> before = labelPositions_;
  labelPositions_.clear();
  ticker_->clear();
  if (tokens_.isEmpty() || rects_.isEmpty()) return !before.isEmpty();
  QCPAxis* x = rects_.back()->axis(QCPAxis::atBottom);
  const QCPRange range = x->range();
  const double widthPx = std::max(1, rects_.back()->width() > 0 ? rects_.back()->width() : width() - 80);
  const double perToken = widthPx / std::max(1e-9, range.size());
  const int first = std::max(0, int(std::floor(range.lower)));
  const int last = std::min<int>(tokens_.size() - 1, int(std::ceil(range.upper)));
  // Label width: the widest visible label (elided), plus a gap.
  const QFontMetrics fm(x->tickLabelFont());
  int widest = 0;
  // With MQAR roles each label has the position index under the token id.
  const bool indices = hasPositionRoles();
  for (int i = first; i <= last; ++i) {
    const QString text = displayToken(tokens_[i]);
    widest = std::max(widest, fm.horizontalAdvance(text.left(kMaxLabelChars)));
    if (indices) widest = std::max(widest, fm.horizontalAdvance(QString::number(i)));
  }
  const int step = std::max(1, int(std::ceil((widest + 8) / perToken)));
  for (int i = (first + step - 1) / step * step; i <= last; i += step) {
    QString text = displayToken(tokens_[i]);
    if (text.size() > kMaxLabelChars) text = text.left(kMaxLabelChars - 1) + QChar(0x2026);
    // A label reaching left of the axis would meet the lowest ESS tick label at the corner.
    double labelWidth = 0;
    for (const QString& line : text.split(QLatin1Char('\n')))
      labelWidth = std::max<double>(labelWidth, fm.horizontalAdvance(line));
    if (indices) labelWidth = std::max<double>(labelWidth, fm.horizontalAdvance(QString::number(i)));
    if ((i + 0.5 - range.lower) * perToken < labelWidth / 2) continue;
    if (indices) text += QLatin1Char('\n') + QString::number(i);
    ticker_->addTick(i + 0.5, text);
    labelPositions_ << i;
  }
  return labelPositions_ != before;
}

void PositionEssView::resizeEvent(QResizeEvent* event) {
  PlotView::resizeEvent(event);
  updateTicks();
}

void PositionEssView::onSplitChanged(int) {
  updateCursors();
  replot(QCustomPlot::rpQueuedReplot);
}

void PositionEssView::updateCursors() {
  const int s = currentSplit();
  for (QCPItemStraightLine* cursor : cursors_) {
    cursor->point1->setCoords(s, 0);
    cursor->point2->setCoords(s, 1);
    cursor->setVisible(!rows_.isEmpty() && s > 0);
  }
}

QCPAxisRect* PositionEssView::rectAt(const QPointF& pos) const {
  for (QCPAxisRect* rect : rects_)
    if (rect->rect().contains(pos.toPoint())) return rect;
  return nullptr;
}

void PositionEssView::mousePressEvent(QMouseEvent* event) {
  splitBeforeClick_ = currentSplit();
  QCPAxisRect* rect = rectAt(event->position());
  if (event->button() == Qt::LeftButton && rect && !rows_.isEmpty() && (event->modifiers() & Qt::ShiftModifier) == 0) {
    const double x = rect->axis(QCPAxis::atBottom)->pixelToCoord(event->position().x());
    const int length =
        std::max<int>(tokens_.size(), rows_[0].series.splits.isEmpty() ? 0 : int(rows_[0].series.splits.back()) + 1);
    emit splitRequested(std::clamp(int(std::lround(x)), 1, std::max(1, length - 1)));
  }
  PlotView::mousePressEvent(event);
}

void PositionEssView::mouseDoubleClickEvent(QMouseEvent* event) {
  if (splitBeforeClick_ >= 1 && currentSplit() != splitBeforeClick_) emit splitRequested(splitBeforeClick_);
  resetView();
  replot();
  PlotView::mouseDoubleClickEvent(event);
}

void PositionEssView::mouseMoveEvent(QMouseEvent* event) {
  QCPAxisRect* rect = rectAt(event->position());
  const int r = rects_.indexOf(rect);
  if (rect && r >= 0 && r < rows_.size()) {
    const double x = rect->axis(QCPAxis::atBottom)->pixelToCoord(event->position().x());
    const int s = int(std::lround(x));
    const EssSeries& series = rows_[r].series;
    QString text = tr("layer %1, split %2").arg(rows_[r].layer).arg(s);
    // With MQAR roles: the position index and role of each token ("'12' at 3, key").
    const auto token = [this](int i) {
      QString t = QStringLiteral("'%1'").arg(displayToken(tokens_[i]));
      if (hasPositionRoles()) {
        t += tr(" at %1").arg(i);
        const QString role = roleAt(i);
        if (!role.isEmpty()) t += QStringLiteral(", ") + role;
      }
      return t;
    };
    if (s >= 1 && s <= tokens_.size())
      text += tr(" (after %1").arg(token(s - 1)) +
              (s < tokens_.size() ? tr(", before %1)").arg(token(s)) : QStringLiteral(")"));
    const int idx = series.splits.indexOf(double(s));
    if (idx >= 0)
      text += tr(": tolerance-ESS %1, entropy-ESS %2")
                  .arg(series.tolerance.value(idx), 0, 'g', 4)
                  .arg(series.entropy.value(idx), 0, 'g', 4);
    emit hoverChanged(text);
  }
  PlotView::mouseMoveEvent(event);
}

QString PositionEssView::toCsv() const {
  bool compare = false;
  for (const PositionRow& row : rows_) compare = compare || !row.compare.splits.isEmpty();
  QString csv = compare ? QStringLiteral("checkpoint,step,") : QString();
  csv += QStringLiteral("layer,split,token,tolerance_ess,entropy_ess\n");
  for (int k = 0; k < (compare ? 2 : 1); ++k) {
    for (const PositionRow& row : rows_) {
      const EssSeries& s = k == 0 ? row.series : row.compare;
      for (int i = 0; i < s.splits.size(); ++i) {
        const int split = int(s.splits[i]);
        const QString token = split >= 1 && split <= tokens_.size() ? tokens_[split - 1] : QString();
        if (compare) csv += csvField(s.checkpoint) + QLatin1Char(',') + csvStep(s.step) + QLatin1Char(',');
        csv += QString::number(row.layer) + QLatin1Char(',') + QString::number(split) + QLatin1Char(',') +
               csvField(token) + QLatin1Char(',') + csvNumber(s.tolerance.value(i)) + QLatin1Char(',') +
               csvNumber(s.entropy.value(i)) + QLatin1Char('\n');
      }
    }
  }
  return csv;
}

double PositionEssView::aspect() const { return 620.0 / 900.0; }
