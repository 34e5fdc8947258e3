#include "heatmap_view.h"

#include <QFontMetrics>
#include <QTimer>
#include <QToolTip>
#include <algorithm>
#include <cmath>
#include <limits>

#include "colormaps.h"

namespace {
constexpr double kEdgeGrabPixels = 6.0;
constexpr int kMaxTokenChars = 10;  // longer token labels are elided on the axes

// Integer ticks labelled only inside the matrix (a zoomed-out view shows empty margins).
// With token labels (as many as the length), ticks sit every `labelStep` positions and show
// the token text.
class MatrixTicker : public IndexTicker {
 public:
  int length = 0;
  QStringList labels;
  int labelStep = 1;
  bool useLabels() const { return !labels.isEmpty() && labels.size() == length; }

 protected:
  QString getTickLabel(double tick, const QLocale& locale, QChar formatChar, int precision) override {
    if (tick < -0.01 || tick > length - 0.99) return QString();
    if (useLabels()) {
      QString text = labels.value(int(std::lround(tick)));
      text.replace(QLatin1Char('\n'), QLatin1String("\\n")).replace(QLatin1Char('\t'), QLatin1String("\\t"));
      if (text.isEmpty()) text = QStringLiteral("''");
      if (text.size() > kMaxTokenChars) text = text.left(kMaxTokenChars - 1) + QChar(0x2026);
      return text;
    }
    return QCPAxisTicker::getTickLabel(tick, locale, formatChar, precision);
  }
  double getTickStep(const QCPRange& range) override {
    if (useLabels()) return std::max(1, labelStep);
    return IndexTicker::getTickStep(range);
  }
  int getSubTickCount(double tickStep) override { return useLabels() ? 0 : IndexTicker::getSubTickCount(tickStep); }
};

double distanceToSegment(QPointF p, QPointF a, QPointF b) {
  const QPointF ab = b - a;
  const double len2 = QPointF::dotProduct(ab, ab);
  double t = len2 > 0 ? QPointF::dotProduct(p - a, ab) / len2 : 0.0;
  t = std::clamp(t, 0.0, 1.0);
  const QPointF d = p - (a + t * ab);
  return std::hypot(d.x(), d.y());
}
}  // namespace

HeatmapView::HeatmapView(QWidget* parent) : PlotView(parent) {
  xAxis->setLabel(QStringLiteral("input position c (column)"));
  yAxis->setLabel(QStringLiteral("output position r (row)"));
  yAxis->setRangeReversed(true);  // row 0 at the top, like a matrix
  xAxis->grid()->setVisible(false);
  yAxis->grid()->setVisible(false);
  xAxis->setTickLength(0, 4);
  yAxis->setTickLength(0, 4);
  xAxis->setTicker(QSharedPointer<MatrixTicker>::create());
  yAxis->setTicker(QSharedPointer<MatrixTicker>::create());

  map_ = addColorMapWithScale(&colorScale_);
  maskBackground_ = new QCPItemRect(this);
  maskBackground_->setLayer(QStringLiteral("grid"));  // below the map: shows through its transparent cells
  maskBackground_->setPen(Qt::NoPen);
  maskBackground_->setBrush(colormaps::maskColor());
  maskBackground_->setClipToAxisRect(true);
  maskBackground_->setSelectable(false);
  maskBackground_->setVisible(false);
  // After linking: the colour scale pushes its own gradient onto the map.
  colorScale_->setGradient(colormaps::viridis());
  map_->setGradient(colormaps::viridis());
  // Tiled mode: the detail tile, drawn over the overview (created before the outline items so
  // that they stay on top), sharing the colour scale; between the two the neutral colour, so
  // that its transparent (masked) cells do not show the overview's colours.
  detailBackground_ = new QCPItemRect(this);
  detailBackground_->setPen(Qt::NoPen);
  detailBackground_->setBrush(colormaps::maskColor());
  detailBackground_->setClipToAxisRect(true);
  detailBackground_->setSelectable(false);
  detailBackground_->setVisible(false);
  detailMap_ = new QCPColorMap(xAxis, yAxis);
  detailMap_->setInterpolate(false);
  detailMap_->setTightBoundary(false);
  detailMap_->setColorScale(colorScale_);
  detailMap_->setGradient(colormaps::viridis());
  detailMap_->data()->clear();
  detailMap_->setVisible(false);
  tileTimer_ = new QTimer(this);
  tileTimer_->setSingleShot(true);
  tileTimer_->setInterval(100);
  connect(tileTimer_, &QTimer::timeout, this, &HeatmapView::requestTileNow);
  connect(xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, [this] {
    updateTokenTicks();
    scheduleTileRequest();
  });
  connect(yAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, [this] {
    updateTokenTicks();
    scheduleTileRequest();
  });
  auto* group = new QCPMarginGroup(this);
  axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, group);
  colorScale_->setMarginGroup(QCP::msBottom | QCP::msTop, group);

  outline_ = new QCPItemRect(this);
  outline_->setPen(QPen(QColor(255, 60, 60), 2.0));
  outline_->setBrush(Qt::NoBrush);
  outline_->setClipToAxisRect(true);
  outline_->setVisible(false);
  outlineLabel_ = new QCPItemText(this);
  outlineLabel_->setText(QStringLiteral("H_s"));
  outlineLabel_->setColor(QColor(255, 60, 60));
  outlineLabel_->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
  QFont f = font();
  f.setBold(true);
  outlineLabel_->setFont(f);
  outlineLabel_->setBrush(QColor(255, 255, 255, 200));
  outlineLabel_->setPadding(QMargins(2, 1, 2, 1));
  outlineLabel_->setVisible(false);

  setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  setTitle(tr("operator T"));
  clear();
}

void HeatmapView::setOperator(int length, const QVector<double>& values, const QString& title) {
  tiled_ = false;
  overview_ = detail_ = HeatmapTile();
  detailMap_->data()->clear();
  detailMap_->setVisible(false);
  length_ = std::max(0, length);
  values_ = values;
  updateTokenTicks();  // tick length, label thinning and the axis titles follow the new length
  if (values_.size() != length_ * length_) values_.resize(length_ * length_);
  setTitle(title.isEmpty() ? tr("operator T (L = %1)").arg(length_) : title);
  userView_ = false;
  rebuildMap();
  updateOutline();
  resetView();
}

void HeatmapView::clear() {
  length_ = 0;
  values_.clear();
  tiled_ = false;
  overview_ = detail_ = HeatmapTile();
  tileTimer_->stop();
  detailMap_->data()->clear();
  detailMap_->setVisible(false);
  map_->data()->clear();
  setTitle(tr("no operator"));
  colorScale_->axis()->setLabel(QString());
  updateTokenTicks();
  updateOutline();
  xAxis->setRange(-0.5, 0.5);
  yAxis->setRange(-0.5, 0.5);
  replot();
}

double HeatmapView::valueAt(int row, int col) const {
  if (row < 0 || col < 0 || row >= length_ || col >= length_) return std::numeric_limits<double>::quiet_NaN();
  if (!tiled_) return values_[row * length_ + col];
  const HeatmapTile& t = !detail_.isEmpty() && detail_.covers(row, col) ? detail_ : overview_;
  if (!t.covers(row, col)) return std::numeric_limits<double>::quiet_NaN();
  const int i = (row - t.firstRow) / t.rowStep, j = (col - t.firstColumn) / t.columnStep;
  return t.values.value(i * t.columns + j, std::numeric_limits<double>::quiet_NaN());
}

bool HeatmapView::sampleAt(int row, int col, int* sampleRow, int* sampleColumn, bool* exact) const {
  if (row < 0 || col < 0 || row >= length_ || col >= length_) return false;
  if (!tiled_) {
    *sampleRow = row, *sampleColumn = col, *exact = true;
    return true;
  }
  const HeatmapTile& t = !detail_.isEmpty() && detail_.covers(row, col) ? detail_ : overview_;
  if (!t.covers(row, col)) return false;
  *sampleRow = t.firstRow + (row - t.firstRow) / t.rowStep * t.rowStep;
  *sampleColumn = t.firstColumn + (col - t.firstColumn) / t.columnStep * t.columnStep;
  *exact = t.isExact();
  return true;
}

void HeatmapView::setTiledOperator(int length, const HeatmapTile& overview, const QString& title) {
  // Another head or layer of the same length: keep the user's zoom and fetch its detail.
  const bool keepView = tiled_ && userView_ && length == length_;
  tiled_ = true;
  length_ = std::max(0, length);
  values_.clear();
  overview_ = overview;
  if (overview_.values.size() != overview_.rows * overview_.columns)
    overview_.values.resize(overview_.rows * overview_.columns);
  detail_ = HeatmapTile();
  detailMap_->data()->clear();
  detailMap_->setVisible(false);
  updateTokenTicks();  // tick length, label thinning and the axis titles follow the new length
  setTitle(title.isEmpty() ? tr("operator T (L = %1, overview 1:%2)").arg(length_).arg(overview_.rowStep) : title);
  rebuildMap();
  updateOutline();
  if (keepView) {
    replot();
    scheduleTileRequest();
  } else {
    userView_ = false;
    resetView();
  }
}

void HeatmapView::setDetailTile(const HeatmapTile& tile) {
  if (!tiled_ || tile.isEmpty() || tile.values.size() != tile.rows * tile.columns) return;
  detail_ = tile;
  fillMap(detailMap_, detail_);
  detailMap_->setVisible(true);
  replot(QCustomPlot::rpQueuedReplot);
}

void HeatmapView::setTileDelay(int ms) { tileTimer_->setInterval(std::max(0, ms)); }

void HeatmapView::scheduleTileRequest() {
  if (tiled_ && length_ >= 2) tileTimer_->start();
}

void HeatmapView::requestTileNow() {
  tileTimer_->stop();
  if (!tiled_ || length_ < 2) return;
  const QRect rect = axisRect()->rect();
  if (rect.width() < 2 || rect.height() < 2) return;
  // The visible cells, at least two in each direction.
  const auto span = [this](const QCPRange& range, int* begin, int* end) {
    *begin = std::clamp(static_cast<int>(std::floor(range.lower + 0.5)), 0, length_ - 1);
    *end = std::clamp(static_cast<int>(std::ceil(range.upper + 0.5)), *begin + 1, length_);
    if (*end - *begin < 2) {
      if (*end < length_)
        ++*end;
      else
        --*begin;
    }
  };
  int c0, c1, r0, r1;
  span(xAxis->range(), &c0, &c1);
  span(yAxis->range(), &r0, &r1);
  const double ratio = devicePixelRatioF();
  const int maxColumns = std::max(2, static_cast<int>(rect.width() * ratio));
  const int maxRows = std::max(2, static_cast<int>(rect.height() * ratio));
  const int needColumn = std::max(1, (c1 - c0 + maxColumns - 1) / maxColumns);
  const int needRow = std::max(1, (r1 - r0 + maxRows - 1) / maxRows);
  if (overview_.columnStep <= needColumn && overview_.rowStep <= needRow) {
    // The overview is already as fine as the screen.
    if (!detail_.isEmpty()) {
      detail_ = HeatmapTile();
      detailMap_->data()->clear();
      detailMap_->setVisible(false);
      replot(QCustomPlot::rpQueuedReplot);
    }
    return;
  }
  if (!detail_.isEmpty() && detail_.firstRow <= r0 && detail_.firstColumn <= c0 && detail_.rowEnd() >= r1 &&
      detail_.columnEnd() >= c1 && detail_.rowStep <= needRow && detail_.columnStep <= needColumn)
    return;  // the detail drawn covers the view finely enough
  emit tileRequested(r0, r1, c0, c1, maxRows, maxColumns);
}

double HeatmapView::display(double v) const {
  if (scale_ == Scale::Linear) return v;
  if (!std::isfinite(v)) return std::numeric_limits<double>::quiet_NaN();
  if (v == 0) return zeroLevel_;
  return std::max(logFloor_, std::log10(std::abs(v)));
}

void HeatmapView::fillMap(QCPColorMap* map, const HeatmapTile& t) const {
  auto* data = map->data();
  if (t.isEmpty()) {
    data->clear();
    return;
  }
  // Cell (i, j) covers the block of steps that starts at its sample; QCustomPlot needs two
  // cells per direction to give them a width, so a single one is drawn as two halves.
  const auto axis = [](int first, int step, int n, int* size, QCPRange* range) {
    if (n >= 2) {
      const double lo = first + (step - 1) / 2.0;
      *size = n;
      *range = QCPRange(lo, lo + double(n - 1) * step);
    } else {
      *size = 2;
      *range = QCPRange(first - 0.5 + 0.25 * step, first - 0.5 + 0.75 * step);
    }
  };
  int keySize, valueSize;
  QCPRange keyRange, valueRange;
  axis(t.firstColumn, t.columnStep, t.columns, &keySize, &keyRange);
  axis(t.firstRow, t.rowStep, t.rows, &valueSize, &valueRange);
  data->setSize(keySize, valueSize);
  data->setRange(keyRange, valueRange);
  data->clearAlpha();
  // Exact zeros on the log scale and the masked upper triangle (by the sample drawn at the
  // cell) are transparent over the neutral colour, as in the dense view.
  for (int i = 0; i < valueSize; ++i)
    for (int j = 0; j < keySize; ++j) {
      const int si = std::min(i, t.rows - 1), sj = std::min(j, t.columns - 1);
      const double v = t.values[si * t.columns + sj];
      data->setCell(j, i, display(v));
      const bool upper = t.firstColumn + sj * t.columnStep > t.firstRow + si * t.rowStep;
      if ((maskUpper_ && upper) || (scale_ == Scale::Log10 && v == 0)) data->setAlpha(j, i, 0);
    }
}

void HeatmapView::rebuildTiles() {
  // The colour scale comes from the overview alone, so zooming never changes it.
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  bool negative = false;
  for (int i = 0; i < overview_.rows; ++i)
    for (int j = 0; j < overview_.columns; ++j) {
      const bool upper = overview_.firstColumn + j * overview_.columnStep > overview_.firstRow + i * overview_.rowStep;
      negative = negative || (overview_.values[i * overview_.columns + j] < 0 && !(maskUpper_ && upper));
    }
  applyGradient(negative);
  if (scale_ == Scale::Linear) {
    QVector<double> finite;
    for (int i = 0; i < overview_.rows; ++i)
      for (int j = 0; j < overview_.columns; ++j) {
        const double v = overview_.values[i * overview_.columns + j];
        const bool upper =
            overview_.firstColumn + j * overview_.columnStep > overview_.firstRow + i * overview_.rowStep;
        if (std::isfinite(v) && !(maskUpper_ && upper)) finite.append(v);
      }
    const QCPRange r = rangeOf(finite, effectiveMap_ == colormaps::Map::Diverging);
    lo = r.lower, hi = r.upper;
    colorScale_->axis()->setLabel(QStringLiteral("T[r, c]"));
  } else {
    double maxLog = -std::numeric_limits<double>::infinity(), minLog = -maxLog;
    for (double v : overview_.values) {
      if (!std::isfinite(v) || v == 0) continue;
      const double l = std::log10(std::abs(v));
      maxLog = std::max(maxLog, l);
      minLog = std::min(minLog, l);
    }
    if (!std::isfinite(maxLog)) maxLog = 0, minLog = -1;
    logFloor_ = std::max(minLog, maxLog - 10.0);
    zeroLevel_ = logFloor_;  // drawn transparent: the neutral colour, never the lowest one
    lo = logFloor_;
    hi = maxLog;
    colorScale_->axis()->setLabel(QStringLiteral("log10 |T[r, c]|"));
  }
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi <= lo) hi = lo + (lo == 0 ? 1.0 : std::abs(lo) * 1e-6 + 1e-12);
  fillMap(map_, overview_);
  if (!detail_.isEmpty()) fillMap(detailMap_, detail_);
  map_->setDataRange(QCPRange(lo, hi));
}

void HeatmapView::setScale(Scale scale) {
  if (scale == scale_) return;
  scale_ = scale;
  rebuildMap();
  replot();
}

bool HeatmapView::ColorRange::parse(const QString& text, ColorRange* range, QString* error) {
  ColorRange r;
  bool ok = true;
  if (text == QLatin1String("auto")) {
    r.mode = Mode::Auto;
  } else if (text == QLatin1String("symmetric")) {
    r.mode = Mode::Symmetric;
  } else if (text.startsWith(QLatin1Char('p'))) {
    r.mode = Mode::Percentile;
    r.percentile = text.mid(1).toDouble(&ok);
    ok = ok && r.percentile > 50 && r.percentile <= 100;
  } else if (text.count(QLatin1Char(':')) == 1) {
    r.mode = Mode::Fixed;
    bool a = false, b = false;
    r.min = text.section(QLatin1Char(':'), 0, 0).toDouble(&a);
    r.max = text.section(QLatin1Char(':'), 1, 1).toDouble(&b);
    ok = a && b && std::isfinite(r.min) && std::isfinite(r.max) && r.min < r.max;
  } else {
    ok = false;
  }
  if (!ok) {
    if (error)
      *error = QStringLiteral(
                   "expected auto, symmetric, MIN:MAX (MIN < MAX) or pNN (a percentile above 50, "
                   "e.g. p99), got '%1'")
                   .arg(text);
    return false;
  }
  *range = r;
  return true;
}

QString HeatmapView::ColorRange::text() const {
  switch (mode) {
    case Mode::Auto:
      return QStringLiteral("auto");
    case Mode::Symmetric:
      return QStringLiteral("symmetric");
    case Mode::Fixed:
      return QStringLiteral("%1:%2").arg(csvNumber(min), csvNumber(max));
    case Mode::Percentile:
      return QStringLiteral("p%1").arg(csvNumber(percentile));
  }
  return QStringLiteral("auto");
}

void HeatmapView::setColorMap(bool automatic, colormaps::Map map) {
  autoMap_ = automatic;
  chosenMap_ = map;
  rebuildMap();
  replot();
}

void HeatmapView::setColorRange(const ColorRange& range) {
  range_ = range;
  rebuildMap();
  replot();
}

void HeatmapView::setMaskUpper(bool mask) {
  if (mask == maskUpper_) return;
  maskUpper_ = mask;
  rebuildMap();
  replot();
}

void HeatmapView::applyGradient(bool signedValues) {
  effectiveMap_ = autoMap_
                      ? (signedValues && scale_ == Scale::Linear ? colormaps::Map::Diverging : colormaps::Map::Viridis)
                      : chosenMap_;
  const QCPColorGradient g = colormaps::gradient(effectiveMap_);
  colorScale_->setGradient(g);
  map_->setGradient(g);
  detailMap_->setGradient(g);
}

QCPRange HeatmapView::rangeOf(QVector<double> values, bool diverging) const {
  return colorRangeOf(std::move(values), diverging, scale_ == Scale::Linear, range_);
}

QCPRange HeatmapView::colorRangeOf(QVector<double> values, bool diverging, bool linear, const ColorRange& range) {
  // `values`: the finite values drawn (no masked cells), in the scale's units.
  if (values.isEmpty()) return QCPRange(0, 1);
  ColorRange::Mode mode = range.mode;
  if (mode == ColorRange::Mode::Auto && diverging && linear) mode = ColorRange::Mode::Symmetric;
  if (mode == ColorRange::Mode::Symmetric && !linear) mode = ColorRange::Mode::Auto;
  QCPRange r;
  switch (mode) {
    case ColorRange::Mode::Fixed:
      r = QCPRange(range.min, range.max);
      break;
    case ColorRange::Mode::Symmetric: {
      double m = 0;
      for (double v : values) m = std::max(m, std::abs(v));
      r = QCPRange(-m, m);
      break;
    }
    case ColorRange::Mode::Percentile: {
      const auto quantile = [](QVector<double>& v, double q) {
        const int k = std::clamp(int(std::lround(q * (v.size() - 1))), 0, int(v.size()) - 1);
        std::nth_element(v.begin(), v.begin() + k, v.end());
        return v[k];
      };
      const double q = range.percentile / 100.0;
      if (diverging && linear) {
        for (double& v : values) v = std::abs(v);
        const double m = quantile(values, q);
        r = QCPRange(-m, m);
      } else {
        r = QCPRange(quantile(values, 1.0 - q), quantile(values, q));
      }
      break;
    }
    case ColorRange::Mode::Auto: {
      const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
      r = QCPRange(*lo, *hi);
      break;
    }
  }
  if (r.upper <= r.lower) r.upper = r.lower + (r.lower == 0 ? 1.0 : std::abs(r.lower) * 1e-6 + 1e-12);
  return r;
}

void HeatmapView::rebuildMap() {
  if (tiled_) {
    maskBackground_->topLeft->setCoords(-0.5, -0.5);
    maskBackground_->bottomRight->setCoords(length_ - 0.5, length_ - 0.5);
    maskBackground_->setVisible(maskUpper_ || scale_ == Scale::Log10);
    rebuildTiles();
    return;
  }
  const int L = length_;
  auto* data = map_->data();
  if (L == 0) {
    data->clear();
    maskBackground_->setVisible(false);
    return;
  }
  data->setSize(L, L);
  data->setRange(QCPRange(0, L - 1), QCPRange(0, L - 1));
  data->clearAlpha();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const bool linear = scale_ == Scale::Linear;
  // log10 |T| at most 10 decades below the largest magnitude; exact zeros (and the masked
  // upper triangle) are transparent over the neutral mask colour, never the lowest colour.
  double maxLog = -std::numeric_limits<double>::infinity(), minLog = -maxLog;
  bool negative = false;
  for (int i = 0; i < values_.size(); ++i) {
    const double v = values_[i];
    if (!std::isfinite(v)) continue;
    negative = negative || (v < 0 && !(maskUpper_ && i % L > i / L));
    if (v == 0) continue;
    const double l = std::log10(std::abs(v));
    maxLog = std::max(maxLog, l);
    minLog = std::min(minLog, l);
  }
  if (!std::isfinite(maxLog)) maxLog = 0, minLog = -1;
  const double floor = std::max(minLog, maxLog - 10.0);
  QVector<double> drawn;
  drawn.reserve(L * L);
  bool anyMasked = false;
  for (int r = 0; r < L; ++r)
    for (int c = 0; c < L; ++c) {
      const double v = values_[r * L + c];
      const bool masked = (maskUpper_ && c > r) || (!linear && v == 0);
      double d;
      if (std::isnan(v) || std::isinf(v))
        d = nan;
      else if (linear)
        d = v;
      else
        d = v == 0 ? floor : std::max(floor, std::log10(std::abs(v)));
      data->setCell(c, r, d);
      if (masked) {
        data->setAlpha(c, r, 0);
        anyMasked = true;
      } else if (std::isfinite(d)) {
        drawn.append(d);
      }
    }
  applyGradient(negative);
  colorScale_->axis()->setLabel(linear ? QStringLiteral("T[r, c]") : QStringLiteral("log10 |T[r, c]|"));
  map_->setDataRange(rangeOf(drawn, effectiveMap_ == colormaps::Map::Diverging));
  maskBackground_->topLeft->setCoords(-0.5, -0.5);
  maskBackground_->bottomRight->setCoords(L - 0.5, L - 0.5);
  maskBackground_->setVisible(anyMasked);
}

void HeatmapView::onSplitChanged(int) {
  updateOutline();
  replot(QCustomPlot::rpQueuedReplot);
}

void HeatmapView::updateOutline() {
  const int s = currentSplit();
  const bool visible = length_ >= 2 && s >= 1 && s <= length_ - 1;
  outline_->setVisible(visible);
  outlineLabel_->setVisible(visible);
  if (!visible) return;
  outline_->topLeft->setCoords(-0.5, s - 0.5);
  outline_->bottomRight->setCoords(s - 0.5, length_ - 0.5);
  outlineLabel_->position->setCoords(-0.5, s - 0.5);
  // Inside the block's top-left corner for small s (above it the matrix ends), above the
  // block for large s (where the block is a few rows high).
  outlineLabel_->setPositionAlignment(Qt::AlignLeft | (2 * s < length_ ? Qt::AlignTop : Qt::AlignBottom));
  outlineLabel_->setText(QStringLiteral("H_%1").arg(s));
}

QRectF HeatmapView::hankelOutline() const {
  if (!outline_->visible()) return {};
  const QPointF a = outline_->topLeft->coords();
  const QPointF b = outline_->bottomRight->coords();
  return QRectF(a, b).normalized();
}

QPointF HeatmapView::pixelOf(double column, double row) const {
  return {xAxis->coordToPixel(column), yAxis->coordToPixel(row)};
}

int HeatmapView::splitFromCoordinate(double coordinate) const {
  return std::clamp(static_cast<int>(std::lround(coordinate + 0.5)), 1, std::max(1, length_ - 1));
}

int HeatmapView::splitAt(const QPointF& pos, Qt::Orientation* orientation) const {
  if (length_ < 2) return 0;
  const double x = xAxis->pixelToCoord(pos.x());
  const double y = yAxis->pixelToCoord(pos.y());
  const int sx = splitFromCoordinate(x);
  const int sy = splitFromCoordinate(y);
  const double dx = std::abs(pos.x() - xAxis->coordToPixel(sx - 0.5));
  const double dy = std::abs(pos.y() - yAxis->coordToPixel(sy - 0.5));
  const bool column = dx <= dy;
  if (orientation) *orientation = column ? Qt::Vertical : Qt::Horizontal;
  return column ? sx : sy;
}

bool HeatmapView::nearOutlineEdge(const QPointF& pos, Qt::Orientation* orientation) const {
  if (!outline_->visible()) return false;
  const int s = currentSplit();
  const QPointF corner = pixelOf(s - 0.5, s - 0.5);
  const double dv = distanceToSegment(pos, corner, pixelOf(s - 0.5, length_ - 0.5));
  const double dh = distanceToSegment(pos, pixelOf(-0.5, s - 0.5), corner);
  if (std::min(dv, dh) > kEdgeGrabPixels) return false;
  *orientation = dv <= dh ? Qt::Vertical : Qt::Horizontal;
  return true;
}

void HeatmapView::mousePressEvent(QMouseEvent* event) {
  splitBeforeClick_ = currentSplit();
  pressed_ = false;
  dragging_ = 0;
  if (event->button() == Qt::LeftButton && length_ >= 2 && axisRect()->rect().contains(event->pos())) {
    Qt::Orientation o;
    if (nearOutlineEdge(event->position(), &o)) {
      dragging_ = o == Qt::Vertical ? 1 : 2;
      setCursor(o == Qt::Vertical ? Qt::SizeHorCursor : Qt::SizeVerCursor);
      event->accept();
      return;  // no panning while the split is dragged
    }
    pressed_ = true;
    pressPos_ = event->position();
  }
  PlotView::mousePressEvent(event);
}

void HeatmapView::mouseMoveEvent(QMouseEvent* event) {
  if (dragging_) {
    const double coord =
        dragging_ == 1 ? xAxis->pixelToCoord(event->position().x()) : yAxis->pixelToCoord(event->position().y());
    emit splitRequested(splitFromCoordinate(coord));
    event->accept();
    return;
  }
  if (pressed_ && (event->buttons() & Qt::LeftButton) && (event->position() - pressPos_).manhattanLength() > 3)
    userView_ = true;  // panning
  if (length_ > 0 && axisRect()->rect().contains(event->pos())) {
    const int c = static_cast<int>(std::lround(xAxis->pixelToCoord(event->position().x())));
    const int r = static_cast<int>(std::lround(yAxis->pixelToCoord(event->position().y())));
    int sr = r, sc = c;
    bool exact = true;
    if (sampleAt(r, c, &sr, &sc, &exact)) {
      const double v = valueAt(r, c);
      QString text = exact ? tr("%1: T = %2").arg(cellText(r, c)).arg(v, 0, 'g', 6)
                           : tr("%1: T[%2, %3] = %4 (sample of a reduced-resolution tile, "
                                "1 per %5 x %6 entries; zoom in for exact values)")
                                 .arg(cellText(r, c))
                                 .arg(sr)
                                 .arg(sc)
                                 .arg(v, 0, 'g', 6)
                                 .arg(detail_.covers(r, c) ? detail_.rowStep : overview_.rowStep)
                                 .arg(detail_.covers(r, c) ? detail_.columnStep : overview_.columnStep);
      if (scale_ == Scale::Log10 && v != 0 && std::isfinite(v))
        text += tr(" (log10|T| = %1)").arg(std::log10(std::abs(v)), 0, 'f', 2);
      emit hoverChanged(text);
      if (!(event->buttons() & Qt::LeftButton)) QToolTip::showText(event->globalPosition().toPoint(), text, this);
    } else {
      emit hoverChanged(QString());
      QToolTip::hideText();
    }
  }
  PlotView::mouseMoveEvent(event);
}

void HeatmapView::mouseReleaseEvent(QMouseEvent* event) {
  if (dragging_) {
    dragging_ = 0;
    unsetCursor();
    event->accept();
    return;
  }
  if (pressed_ && event->button() == Qt::LeftButton && (event->position() - pressPos_).manhattanLength() <= 3) {
    const int s = splitAt(event->position());
    if (s > 0) emit splitRequested(s);
  }
  pressed_ = false;
  PlotView::mouseReleaseEvent(event);
}

void HeatmapView::mouseDoubleClickEvent(QMouseEvent* event) {
  // A double-click resets the zoom and nothing else: its first click's split is undone.
  if (splitBeforeClick_ >= 1 && currentSplit() != splitBeforeClick_) emit splitRequested(splitBeforeClick_);
  resetView();
  PlotView::mouseDoubleClickEvent(event);
}

void HeatmapView::wheelEvent(QWheelEvent* event) {
  userView_ = true;
  PlotView::wheelEvent(event);
}

void HeatmapView::resizeEvent(QResizeEvent* event) {
  PlotView::resizeEvent(event);
  if (!userView_ && length_ > 0) resetView();
  updateTokenTicks();
}

void HeatmapView::leaveEvent(QEvent* event) {
  emit hoverChanged(QString());
  PlotView::leaveEvent(event);
}

void HeatmapView::resetView() {
  userView_ = false;
  if (length_ == 0) return;
  // The axis rect is kept square (updateLayout), so the whole matrix with square cells is
  // exactly these ranges, whatever the widget's (or an export's) aspect ratio.
  xAxis->setRange(-0.5, length_ - 0.5);
  yAxis->setRange(-0.5, length_ - 0.5);
  replot();
}

void HeatmapView::setZoom(const QCPRange& x, const QCPRange& y) {
  if (length_ == 0) return;
  userView_ = true;
  xAxis->setRange(x);
  yAxis->setRange(y);
  replot();
  if (tiled_) scheduleTileRequest();
}

QString HeatmapView::toCsv() const {
  if (tiled_) {
    // The overview's samples, labelled with their true row and column.
    const HeatmapTile& t = overview_;
    QString out = QStringLiteral("row");
    for (int j = 0; j < t.columns; ++j) out += QLatin1Char(',') + QString::number(t.firstColumn + j * t.columnStep);
    out += QLatin1Char('\n');
    for (int i = 0; i < t.rows; ++i) {
      out += QString::number(t.firstRow + i * t.rowStep);
      for (int j = 0; j < t.columns; ++j) out += QLatin1Char(',') + csvNumber(t.values[i * t.columns + j]);
      out += QLatin1Char('\n');
    }
    return out;
  }
  QString out;
  out.reserve((length_ + 1) * (length_ + 1) * 8);
  out += QStringLiteral("row");
  for (int c = 0; c < length_; ++c) out += QLatin1Char(',') + QString::number(c);
  out += QLatin1Char('\n');
  for (int r = 0; r < length_; ++r) {
    out += QString::number(r);
    for (int c = 0; c < length_; ++c) out += QLatin1Char(',') + csvNumber(values_[r * length_ + c]);
    out += QLatin1Char('\n');
  }
  return out;
}

void HeatmapView::setTokenLabels(const QStringList& labels, bool onAxes) {
  tokenLabels_ = labels;
  for (QCPAxis* axis : {xAxis, yAxis})
    static_cast<MatrixTicker*>(axis->ticker().data())->labels = onAxes ? labels : QStringList();
  updateTokenTicks();
  replot(QCustomPlot::rpQueuedReplot);
}

int HeatmapView::tokenLabelStep(Qt::Orientation orientation) const {
  const auto* ticker =
      static_cast<const MatrixTicker*>((orientation == Qt::Horizontal ? xAxis : yAxis)->ticker().data());
  return ticker->useLabels() ? ticker->labelStep : 0;
}

QString HeatmapView::cellText(int row, int column) const {
  auto token = [this](int i) {
    if (tokenLabels_.size() != length_ || i < 0 || i >= tokenLabels_.size()) return QString();
    QString text = tokenLabels_[i];
    text.replace(QLatin1Char('\n'), QLatin1String("\\n")).replace(QLatin1Char('\t'), QLatin1String("\\t"));
    return QStringLiteral(" '") + text + QLatin1Char('\'');
  };
  return tr("row %1%2, column %3%4").arg(row).arg(token(row)).arg(column).arg(token(column));
}

void HeatmapView::updateLayout() {
  // The neutral colour under the detail tile's transparent cells (tiled mode).
  const bool detail = tiled_ && !detail_.isEmpty() && detailMap_->visible();
  detailBackground_->setVisible(detail && (maskUpper_ || scale_ == Scale::Log10));
  if (detail) {
    detailBackground_->topLeft->setCoords(detail_.firstColumn - 0.5, detail_.firstRow - 0.5);
    detailBackground_->bottomRight->setCoords(std::min(length_, detail_.columnEnd()) - 0.5,
                                              std::min(length_, detail_.rowEnd()) - 0.5);
  }
  PlotView::updateLayout();
  squareAxisRect();
  if (updateTokenTicks()) {
    PlotView::updateLayout();
    squareAxisRect();
  }
}

int HeatmapView::tightHeight(int width) {
  // Lay out unsquared in a tall probe: the matrix's side is then the inner width, and the
  // height without the extra rows is the figure's.
  const QRect old = viewport();
  const int probe = std::max(64, 3 * width);
  setViewport(QRect(0, 0, width, probe));
  PlotView::updateLayout();
  updateTokenTicks();
  PlotView::updateLayout();
  QRect inner = axisRect()->rect();
  int height = probe - std::max(0, inner.height() - inner.width());
  // Again at that height (the title's line limit follows the height): drop what is left over.
  setViewport(QRect(0, 0, width, height));
  PlotView::updateLayout();
  inner = axisRect()->rect();
  height -= std::max(0, inner.height() - inner.width());
  setViewport(old);
  updateLayout();
  return std::max(16, height);
}

void HeatmapView::squareAxisRect() {
  // The grid layout gives the axis rect all the room left of the colour scale; shrink its
  // inner rect to the largest centred square, and move the colour scale (beside it, at its
  // height) and the title (just above it) along. Margins (tick labels, axis titles) stay, so
  // the axis titles sit next to the matrix.
  QCPAxisRect* ar = axisRect();
  const QRect inner = ar->rect();
  const int side = std::min(inner.width(), inner.height());
  if (side <= 0) return;
  const int dx = inner.width() - side, dy = inner.height() - side;
  if (dx == 0 && dy == 0) return;
  const int left = dx / 2, top = dy / 2;
  const QMargins m = ar->margins();
  const QRect square(inner.left() + left, inner.top() + top, side, side);
  ar->setOuterRect(square.adjusted(-m.left(), -m.top(), m.right(), m.bottom()));
  static_cast<QCPLayoutElement*>(ar)->update(QCPLayoutElement::upLayout);
  // The colour bar: as far left as the axis rect's right edge moved, and the matrix's height
  // (its margin group keeps its top and bottom margins equal to the axis rect's).
  const QRect bar = colorScale_->outerRect();
  colorScale_->setOuterRect(QRect(bar.left() - (dx - left), bar.top() + top, bar.width(), bar.height() - dy));
  static_cast<QCPLayoutElement*>(colorScale_)->update(QCPLayoutElement::upLayout);
  if (titleElement_ && dy > 0) {
    const QRect t = titleElement_->outerRect();
    titleElement_->setOuterRect(t.translated(0, top));
  }
}

bool HeatmapView::updateTokenTicks() {
  bool changed = false;
  // Thinning: a label every `step` positions, so that neighbouring labels do not overlap at
  // the current zoom (x: label widths, y: line height).
  const QFontMetrics fm(xAxis->tickLabelFont());
  for (QCPAxis* axis : {xAxis, yAxis}) {
    auto* ticker = static_cast<MatrixTicker*>(axis->ticker().data());
    ticker->length = length_;
    const bool horizontal = axis == xAxis;
    // The axis title says what the ticks show: positions, or the input's tokens at them.
    const QString title = ticker->useLabels()
                              ? (horizontal ? tr("input token at column c") : tr("output token at row r"))
                              : (horizontal ? tr("input position c (column)") : tr("output position r (row)"));
    if (axis->label() != title) {
      axis->setLabel(title);
      changed = true;
    }
    if (!ticker->useLabels()) continue;
    const int pixels = horizontal ? axisRect()->width() : axisRect()->height();
    const double perCell = std::max(1e-9, std::max(1, pixels > 0 ? pixels : 400) / axis->range().size());
    double need = fm.height() + 2;
    if (horizontal) {
      int widest = 0;
      const int first = std::max(0, int(std::floor(axis->range().lower)));
      const int last = std::min<int>(length_ - 1, int(std::ceil(axis->range().upper)));
      for (int i = first; i <= last; ++i)
        widest = std::max(widest, fm.horizontalAdvance(tokenLabels_[i].left(kMaxTokenChars)));
      need = widest + 8;
    }
    const int step = std::max(1, int(std::ceil(need / perCell)));
    changed = changed || step != ticker->labelStep;
    ticker->labelStep = step;
  }
  return changed;
}
