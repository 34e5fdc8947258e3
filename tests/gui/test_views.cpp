// Tests of the esswidgets views on synthetic data: the shared split point, the heatmap's H_s
// outline, the ESS curve cursor, the spectrum threshold, the layer grid and figure export.
#include <QFile>
#include <QImage>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QXmlStreamReader>
#include <QtTest>
#include <cmath>

#include "ess_curve_view.h"
#include "figure_export.h"
#include "heatmap_view.h"
#include "layer_comparison_view.h"
#include "position_ess_view.h"
#include "spectrum_view.h"
#include "split_point.h"
#include "view_data.h"

namespace {

// A lower-triangular decay operator T[r, c] = 0.9^(r-c), [L, L] row-major.
QVector<double> decayOperator(int L) {
  QVector<double> t(L * L, 0.0);
  for (int r = 0; r < L; ++r)
    for (int c = 0; c <= r; ++c) t[r * L + c] = std::pow(0.9, r - c);
  return t;
}

EssSeries syntheticSeries(int L) {
  EssSeries s;
  s.name = QStringLiteral("head 0");
  for (int i = 1; i < L; ++i) {
    s.splits.append(i);
    s.tolerance.append(std::min(i, L - i));
    s.entropy.append(0.5 * std::min(i, L - i));
    s.tss.append(i % 5 == 0 ? std::nan("") : 4.0);
  }
  return s;
}

bool isSvg(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return false;
  QXmlStreamReader xml(&f);
  bool sawSvg = false;
  while (!xml.atEnd()) {
    xml.readNext();
    if (xml.isStartElement() && xml.name() == QLatin1String("svg")) sawSvg = true;
  }
  return sawSvg && !xml.hasError();
}

}  // namespace

class TestViews : public QObject {
  Q_OBJECT
 private slots:
  void splitPointClamps();
  void viewsFollowSplit();
  void heatmapClickSetsSplit();
  void heatmapLogScaleAndNan();
  void heatmapFillsSquareAxisRect();
  void longTitleWrapsWhenNarrow();
  void curveDragSetsSplit();
  void spectrumThreshold();
  void layerGridActivatesHead();
  void layerBarsShowTotals();
  void layerBarsColourFamilies();
  void exportFigures();
  void csv();
  void doubleClickResetsZoomOnly();
};

void TestViews::splitPointClamps() {
  SplitPoint sp;
  QCOMPARE(sp.split(), 0);
  QSignalSpy spy(&sp, &SplitPoint::splitChanged);
  sp.setLength(64);
  QCOMPARE(sp.split(), 32);
  sp.setSplit(0);
  QCOMPARE(sp.split(), 1);
  sp.setSplit(1000);
  QCOMPARE(sp.split(), 63);
  sp.step(-10);
  QCOMPARE(sp.split(), 53);
  const int before = spy.count();
  sp.setSplit(53);  // unchanged: no signal
  QCOMPARE(spy.count(), before);
  sp.setLength(16);  // 53 no longer valid: moves to L/2
  QCOMPARE(sp.split(), 8);
  sp.setLength(1);
  QCOMPARE(sp.split(), 0);
}

void TestViews::viewsFollowSplit() {
  const int L = 32;
  SplitPoint sp;
  HeatmapView heat;
  EssCurveView curve;
  SpectrumView spec;
  heat.resize(500, 400);
  curve.resize(500, 300);
  for (PlotView* v : {static_cast<PlotView*>(&heat), static_cast<PlotView*>(&curve), static_cast<PlotView*>(&spec)}) {
    v->setSplitPoint(&sp);
    connect(v, &PlotView::splitRequested, &sp, &SplitPoint::setSplit);
  }
  heat.setOperator(L, decayOperator(L), "decay");
  curve.setSeries({syntheticSeries(L)});
  sp.setLength(L);
  for (int s : {1, 5, 17, 31}) {
    sp.setSplit(s);
    const QRectF r = heat.hankelOutline();
    QCOMPARE(r.left(), -0.5);
    QCOMPARE(r.top(), s - 0.5);
    QCOMPARE(r.right(), s - 0.5);
    QCOMPARE(r.bottom(), L - 0.5);
    QCOMPARE(curve.cursorPosition(), double(s));
  }
  // A view's request goes through the split point and reaches the others (clamped).
  emit curve.splitRequested(100);
  QCOMPARE(sp.split(), L - 1);
  QCOMPARE(heat.hankelOutline().top(), L - 1.5);
}

void TestViews::heatmapClickSetsSplit() {
  const int L = 20;
  SplitPoint sp;
  HeatmapView heat;
  heat.resize(600, 500);
  heat.show();
  QVERIFY(QTest::qWaitForWindowExposed(&heat));
  heat.setSplitPoint(&sp);
  connect(&heat, &PlotView::splitRequested, &sp, &SplitPoint::setSplit);
  heat.setOperator(L, decayOperator(L));
  sp.setLength(L);
  sp.setSplit(10);
  heat.replot();
  // Click right next to the column line between columns 4 and 5 (x = 4.5), on the diagonal
  // far from any row line: the split becomes 5.
  QPoint p = heat.pixelOf(4.45, 14.0).toPoint();
  QTest::mouseClick(&heat, Qt::LeftButton, {}, p);
  QCOMPARE(sp.split(), 5);
  // Drag the row edge of the outline (y = s - 0.5 = 4.5) down to row 12 -> split 12.
  heat.replot();
  const QPoint start = heat.pixelOf(1.0, 4.5).toPoint();
  QTest::mousePress(&heat, Qt::LeftButton, {}, start);
  QMouseEvent move(QEvent::MouseMove, heat.pixelOf(1.0, 11.6), heat.mapToGlobal(heat.pixelOf(1.0, 11.6)), Qt::NoButton,
                   Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(&heat, &move);
  QTest::mouseRelease(&heat, Qt::LeftButton, {}, heat.pixelOf(1.0, 11.6).toPoint());
  QCOMPARE(sp.split(), 12);

  // Hovering a cell reports its row, column and value.
  QSignalSpy hover(&heat, &PlotView::hoverChanged);
  QTest::mouseMove(&heat, heat.pixelOf(3, 7).toPoint());
  QTRY_VERIFY(!hover.isEmpty());
  const QString text = hover.last().at(0).toString();
  QVERIFY2(text.contains("row 7, column 3") && text.contains(QString::number(std::pow(0.9, 4), 'g', 6)),
           qPrintable(text));
}

void TestViews::heatmapLogScaleAndNan() {
  const int L = 8;
  HeatmapView heat;
  QVector<double> t = decayOperator(L);
  t[3 * L + 1] = std::nan("");
  heat.setOperator(L, t);
  QVERIFY(std::isnan(heat.valueAt(3, 1)));
  QVERIFY(std::isnan(heat.colorMap()->data()->cell(1, 3)));
  QCOMPARE(heat.colorMap()->interpolate(), false);
  QVERIFY(heat.yAxis->rangeReversed());
  heat.setScale(HeatmapView::Scale::Log10);
  QCOMPARE(heat.colorMap()->data()->cell(0, 0), 0.0);  // log10(1)
  QVERIFY(std::abs(heat.colorMap()->data()->cell(0, 2) - 2 * std::log10(0.9)) < 1e-12);
  QVERIFY(std::isnan(heat.colorMap()->data()->cell(1, 3)));
  QVERIFY(heat.colorScale()->axis()->label().contains("log10"));
  // NaN is drawn in its own colour.
  QCOMPARE(heat.colorMap()->gradient().nanHandling(), QCPColorGradient::nhNanColor);
}

// The matrix fills a square axis rect at any widget (or export) aspect: at reset zoom both axes
// are exactly [-0.5, L-0.5] (no ticks past the matrix), the cells are square, the colour bar
// sits right beside the matrix at its height; zooming keeps the axis rect square.
void TestViews::heatmapFillsSquareAxisRect() {
  const int L = 31;
  HeatmapView heat;
  heat.setOperator(L, decayOperator(L), "decay");
  heat.show();
  QVERIFY(QTest::qWaitForWindowExposed(&heat));
  auto checkSquare = [&](const QSize& widget) -> QString {
    const QCPRange x = heat.xAxis->range(), y = heat.yAxis->range();
    if (x.lower != -0.5 || x.upper != L - 0.5 || y.lower != -0.5 || y.upper != L - 0.5)
      return QStringLiteral("ranges x [%1, %2] y [%3, %4]").arg(x.lower).arg(x.upper).arg(y.lower).arg(y.upper);
    const QRect r = heat.axisRect()->rect();
    if (std::abs(r.width() - r.height()) > 2) return QStringLiteral("axis rect %1 x %2").arg(r.width()).arg(r.height());
    // It uses the room: the shorter side of the widget, less the axes' margins.
    const int room = std::min(widget.width() - 160, widget.height() - 140);
    if (r.width() < room) return QStringLiteral("axis rect %1 < %2").arg(r.width()).arg(room);
    // The matrix corners are the axis rect's corners.
    if ((heat.pixelOf(-0.5, -0.5) - QPointF(r.topLeft())).manhattanLength() > 2 ||
        (heat.pixelOf(L - 0.5, L - 0.5) - QPointF(r.bottomRight())).manhattanLength() > 3)
      return QStringLiteral("matrix corners off the axis rect");
    const QRect bar = heat.colorScale()->axis()->axisRect()->rect();
    if (std::abs(bar.top() - r.top()) > 1 || std::abs(bar.bottom() - r.bottom()) > 1)
      return QStringLiteral("colour bar %1..%2, matrix %3..%4")
          .arg(bar.top())
          .arg(bar.bottom())
          .arg(r.top())
          .arg(r.bottom());
    if (bar.left() <= r.right() || bar.left() - r.right() > 60)
      return QStringLiteral("colour bar at x %1, matrix ends at %2").arg(bar.left()).arg(r.right());
    return QString();
  };
  for (const QSize size : {QSize(520, 980), QSize(1200, 480), QSize(700, 700)}) {
    heat.resize(size);
    QTRY_COMPARE(heat.size(), size);
    heat.resetView();
    const QString problem = checkSquare(size);
    QVERIFY2(problem.isEmpty(), qPrintable(QStringLiteral("%1 x %2: ").arg(size.width()).arg(size.height()) + problem));
  }
  // An export at another aspect (as `ess render` draws): the same ranges, a square axis rect.
  const QPixmap wide = heat.toPixmap(900, 600);
  QCOMPARE(wide.size(), QSize(900, 600));
  QVERIFY2(checkSquare(QSize(900, 600)).isEmpty(), qPrintable(checkSquare(QSize(900, 600))));
  const QPixmap tall = heat.toPixmap(600, 1000);
  QVERIFY2(checkSquare(QSize(600, 1000)).isEmpty(), qPrintable(checkSquare(QSize(600, 1000))));
  // Zoom: the axis rect stays square, the ranges shrink alike.
  heat.replot();
  heat.xAxis->scaleRange(0.5, 10.0);
  heat.yAxis->scaleRange(0.5, 10.0);
  heat.replot();
  QCOMPARE(heat.xAxis->range().size(), heat.yAxis->range().size());
  QVERIFY(std::abs(heat.axisRect()->width() - heat.axisRect()->height()) <= 2);
  heat.resetView();
  QCOMPARE(heat.xAxis->range().upper, L - 0.5);
}

void TestViews::longTitleWrapsWhenNarrow() {
  EssCurveView v;
  const QString title =
      QStringLiteral("ESS: a checkpoint with a long name, layer 12 (sliding_window_attention), head 31");
  v.setTitle(title);
  auto* element = qobject_cast<QCPTextElement*>(v.plotLayout()->element(0, 0));
  QVERIFY(element);
  v.resize(1600, 500);
  v.show();
  QVERIFY(QTest::qWaitForWindowExposed(&v));
  v.replot();
  QCOMPARE(element->text(), title);  // fits on one line
  v.resize(320, 500);
  v.replot();
  QVERIFY2(element->text().count(QLatin1Char('\n')) >= 1, qPrintable(element->text()));
  QCOMPARE(QString(element->text()).replace(QLatin1Char('\n'), QLatin1Char(' ')), title);  // only wrapped
  QCOMPARE(v.title(), title);
  // One word wider than the plot (a long folder name) is cut in its middle.
  const QString word = QString(120, QLatin1Char('x')) + QStringLiteral("_end");
  v.setTitle(word + QStringLiteral(": layer 0"));
  v.replot();
  const QString first = element->text().section(QLatin1Char('\n'), 0, 0);
  QVERIFY2(
      first.contains(QChar(0x2026)) && first.endsWith(QStringLiteral("_end:")) && first.startsWith(QLatin1Char('x')),
      qPrintable(element->text()));
}

void TestViews::curveDragSetsSplit() {
  const int L = 40;
  SplitPoint sp;
  EssCurveView curve;
  curve.resize(600, 300);
  curve.show();
  QVERIFY(QTest::qWaitForWindowExposed(&curve));
  curve.setSplitPoint(&sp);
  connect(&curve, &PlotView::splitRequested, &sp, &SplitPoint::setSplit);
  curve.setSeries({syntheticSeries(L)});
  sp.setLength(L);
  curve.replot();
  const int y = curve.axisRect()->rect().center().y();
  QTest::mouseClick(&curve, Qt::LeftButton, {}, QPoint(int(curve.xAxis->coordToPixel(7)), y));
  QCOMPARE(sp.split(), 7);
  QCOMPARE(curve.cursorPosition(), 7.0);
  QVERIFY(curve.title().contains("s = 7"));
  // TSS has NaN gaps: the graph keeps them (QCustomPlot draws a gap), the view does not crash.
  QVERIFY(curve.graphCount() == 3);
}

void TestViews::spectrumThreshold() {
  // The threshold and the count come from the core (ess::toleranceCut); the view shows them.
  SpectrumView spec;
  const std::vector<double> sigma = {10.0, 1.0, 0.2, 0.05, 0.0};
  const QVector<double> values(sigma.begin(), sigma.end());
  const auto options = [](double tol, ess::Normalization n) {
    return ess::EssOptions().tolerance(tol).normalization(n);
  };
  spec.setTolerance(1e-2, SpectrumView::Reference::Max);
  spec.setSpectrum(5, values, viewdata::cutOf(sigma, options(1e-2, ess::Normalization::Max)));
  QCOMPARE(spec.dataSplit(), 5);
  QCOMPARE(spec.threshold(), 0.1);
  QCOMPARE(spec.countAboveThreshold(), 3);
  QVERIFY(spec.title().contains("3 of 5"));
  QVERIFY(spec.toCsv().contains("5,3,0.2,1\n5,4,0.05,0\n"));
  spec.setTolerance(1e-2, SpectrumView::Reference::Sum);
  spec.setSpectrum(5, values, viewdata::cutOf(sigma, options(1e-2, ess::Normalization::Sum)));
  QVERIFY(std::abs(spec.threshold() - 0.1125) < 1e-12);
  spec.setTolerance(0.5, SpectrumView::Reference::None);
  spec.setSpectrum(5, values, viewdata::cutOf(sigma, options(0.5, ess::Normalization::None)));
  QCOMPARE(spec.countAboveThreshold(), 2);
  // Without a cut the view draws no threshold and counts nothing.
  spec.setSpectrum(5, values);
  QVERIFY(!spec.title().contains("above threshold"));
  QVERIFY(spec.yAxis->scaleType() == QCPAxis::stLogarithmic);
}

void TestViews::layerGridActivatesHead() {
  LayerComparisonView view;
  view.resize(500, 400);
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  view.setData({"0: softmax_attention", "1: gla"}, {{3.0, 4.0, 5.0}, {1.5, 2.5}}, "mean tolerance-ESS");
  view.replot();
  QSignalSpy spy(&view, &LayerComparisonView::headActivated);
  QTest::mouseClick(&view, Qt::LeftButton, {}, view.cellCenter(1, 1).toPoint());
  QCOMPARE(spy.count(), 1);
  QCOMPARE(spy.at(0).at(0).toInt(), 1);
  QCOMPARE(spy.at(0).at(1).toInt(), 1);
  // Layer 1 has no head 2: no signal.
  QTest::mouseClick(&view, Qt::LeftButton, {}, view.cellCenter(1, 2).toPoint());
  QCOMPARE(spy.count(), 1);

  // One layer (a degenerate grid for QCPColorMap) still draws coloured cells.
  view.setData({"0: operator"}, {{3.0, 5.0}}, "mean tolerance-ESS");
  view.replot();
  const QImage image = view.toPixmap(view.width(), view.height()).toImage();
  const QPointF c0 = view.cellCenter(0, 0), c1 = view.cellCenter(0, 1);
  const QPointF offset(0, (view.yAxis->coordToPixel(0.3) - view.yAxis->coordToPixel(0)));
  const QColor low = image.pixelColor((c0 + offset).toPoint());
  const QColor high = image.pixelColor((c1 + offset).toPoint());
  QVERIFY2(low != QColor(Qt::white) && high != QColor(Qt::white), qPrintable(low.name() + high.name()));
  QVERIFY(low != high);
}

void TestViews::layerBarsShowTotals() {
  LayerComparisonView view;
  view.resize(700, 600);
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  // Two layers: a head layer with known TSS, an operator-like layer without (NaN: no bar).
  const double nan = std::nan("");
  view.setData({"0: gla", "1: short_conv"}, {{3.0, 4.0}, {1.0, 2.0, 2.5}}, "mean tolerance-ESS", "t",
               {{"0", "1"}, {"channels 0-1", "channels 2-3", "channels 4-5"}});
  view.setTotals({{"0: gla", 224.0, 100.5, 2048.0, 0.109375}, {"1: short_conv", 11.0, 9.0, nan, nan}});
  view.replot();
  QCOMPARE(view.totals().size(), 2);
  QCOMPARE(view.bars()[0]->data()->size(), 2);
  QCOMPARE(view.bars()[0]->data()->at(0)->value, 224.0);
  QCOMPARE(view.bars()[2]->data()->at(0)->value, 2048.0);
  QVERIFY(std::isnan(view.bars()[2]->data()->at(1)->value));  // unknown TSS: no bar
  QVERIFY(view.barsRect()->axis(QCPAxis::atLeft)->scaleType() == QCPAxis::stLogarithmic);
  QVERIFY(view.barsRect()->axis(QCPAxis::atLeft)->range().contains(2048.0));
  // The totals come first in the CSV, then the grid's cells under their column labels.
  QCOMPARE(view.toCsv(), QStringLiteral("layer,head,mean_tolerance_ess,mean_entropy_ess,mean_tss,mean_utilization\n"
                                        "0,total,224,100.5,2048,0.109375\n"
                                        "1,total,11,9,,\n"
                                        "0,0,3,,,\n0,1,4,,,\n"
                                        "1,channels 0-1,1,,,\n1,channels 2-3,2,,,\n1,channels 4-5,2.5,,,\n"));
  // Clicking a layer's bars asks for that layer; the grid still answers below.
  QSignalSpy layer(&view, &LayerComparisonView::layerActivated);
  QSignalSpy head(&view, &LayerComparisonView::headActivated);
  QTest::mouseClick(&view, Qt::LeftButton, {}, view.barCenter(1).toPoint());
  QCOMPARE(layer.count(), 1);
  QCOMPARE(layer.at(0).at(0).toInt(), 1);
  QCOMPARE(head.count(), 0);
  QTest::mouseClick(&view, Qt::LeftButton, {}, view.cellCenter(1, 2).toPoint());
  QCOMPARE(head.count(), 1);
  QCOMPARE(head.at(0).at(1).toInt(), 2);
  // Hovering a grid cell names its column label.
  QSignalSpy hover(&view, &PlotView::hoverChanged);
  QTest::mouseMove(&view, view.cellCenter(1, 1).toPoint());
  QTRY_VERIFY(!hover.isEmpty());
  QVERIFY2(hover.last().at(0).toString().contains("channels 2-3"), qPrintable(hover.last().at(0).toString()));
}

void TestViews::layerBarsColourFamilies() {
  // The families of ess info's mixer kinds.
  QCOMPARE(mixerFamily("softmax_attention"), QString("attention"));
  QCOMPARE(mixerFamily("sliding_window_attention"), QString("attention"));
  QCOMPARE(mixerFamily("linear_attention"), QString("recurrent"));
  QCOMPARE(mixerFamily("gated_deltanet"), QString("recurrent"));
  QCOMPARE(mixerFamily("mamba2"), QString("SSM"));
  QCOMPARE(mixerFamily("short_conv"), QString("conv"));
  QCOMPARE(mixerFamily("operator"), QString());
  // A hybrid: attention, recurrent, conv and attention layers, an SSM, and one of no known family.
  LayerComparisonView view;
  view.resize(700, 600);
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  const QStringList labels{"0: softmax_attention",        "1: gla",   "2: short_conv",
                           "3: sliding_window_attention", "4: mamba", "5: operator"};
  QVector<LayerTotals> totals;
  for (int l = 0; l < labels.size(); ++l) totals.append({labels[l], 10.0 + l, 5.0, 100.0, 0.1});
  view.setData(labels, {{1}, {1}, {1}, {1}, {1}, {1}}, "mean tolerance-ESS");
  view.setTotals(totals);
  view.replot();
  // One legend entry per family, in order of first appearance, after the three bar entries.
  QCOMPARE(view.families(), QStringList({"attention", "recurrent", "conv", "SSM"}));
  QCPLegend* legend = nullptr;  // the bars' legend, wherever the layout puts it (a row of its own)
  for (QCPLayoutElement* e : view.plotLayout()->elements(true))
    if (auto* l = qobject_cast<QCPLegend*>(e); l && l != view.legend) legend = l;
  QVERIFY(legend);
  const auto entries = [&] {  // (itemCount counts the grid's empty cells too)
    QStringList names;
    for (int i = 0; i < legend->itemCount(); ++i)
      if (auto* item = qobject_cast<QCPPlottableLegendItem*>(legend->item(i))) names << item->plottable()->name();
    return names;
  };
  QCOMPARE(entries(), QStringList({"tolerance-ESS", "entropy-ESS", "TSS", "attention", "recurrent", "conv", "SSM"}));
  // Each layer's strip is drawn in its family's colour, below the bars' base.
  const QImage image = view.toPixmap(view.width(), view.height()).toImage();
  const QString expected[] = {"attention", "recurrent", "conv", "attention", "SSM"};
  QVERIFY(view.familyStripCenter(5).isNull());  // no known family: no strip
  for (int l = 0; l < 5; ++l) {
    const QPointF c = view.familyStripCenter(l);
    QVERIFY(!c.isNull());
    QCOMPARE(image.pixelColor(c.toPoint()), mixerFamilyColor(expected[l]));
  }
  QVERIFY(mixerFamilyColor("attention") != mixerFamilyColor("recurrent"));
  // Without known families there are no strips and no extra legend entries.
  view.setTotals({{"0: operator", 1.0, 1.0, 2.0, 0.5}});
  QVERIFY(view.families().isEmpty());
  QVERIFY(view.familyStripCenter(0).isNull());
  QCOMPARE(entries().size(), 3);
}

void TestViews::exportFigures() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const int L = 24;
  SplitPoint sp;
  HeatmapView heat;
  heat.resize(400, 300);
  heat.setSplitPoint(&sp);
  heat.setOperator(L, decayOperator(L));
  sp.setLength(L);
  EssCurveView curve;
  curve.resize(400, 300);
  curve.setSplitPoint(&sp);
  curve.setSeries({syntheticSeries(L)});
  SpectrumView spec;
  spec.resize(400, 300);
  spec.setSpectrum(3, {1.0, 0.1, 1e-5});

  for (PlotView* v : {static_cast<PlotView*>(&heat), static_cast<PlotView*>(&curve), static_cast<PlotView*>(&spec)}) {
    const QString base = dir.filePath(v->figureName());
    QString error;
    QVERIFY2(figure::save(v, base + ".png", {800, 500, 192}, &error), qPrintable(error));
    QImage img(base + ".png");
    QVERIFY(!img.isNull());
    QCOMPARE(img.size(), QSize(800, 500));
    QVERIFY2(figure::save(v, base + "_96.png", {640, 480, 96}, &error), qPrintable(error));
    QCOMPARE(QImage(base + "_96.png").size(), QSize(640, 480));

    QVERIFY2(figure::save(v, base + ".pdf", {500, 350}, &error), qPrintable(error));
    QFile pdf(base + ".pdf");
    QVERIFY(pdf.open(QIODevice::ReadOnly));
    QVERIFY(pdf.read(5).startsWith("%PDF"));
    QVERIFY(pdf.size() > 1000);

    QVERIFY2(figure::save(v, base + ".svg", {500, 350}, &error), qPrintable(error));
    QVERIFY(isSvg(base + ".svg"));

    QVERIFY2(figure::save(v, base + ".csv", {}, &error), qPrintable(error));
    QFile csv(base + ".csv");
    QVERIFY(csv.open(QIODevice::ReadOnly));
    QVERIFY(csv.readLine().contains(','));
  }
  QString error;
  QVERIFY(!figure::save(&heat, dir.filePath("x.bmpx"), {}, &error));
  QVERIFY(error.contains("x.bmpx"));
  QVERIFY(!figure::save(&heat, dir.filePath("no/such/dir/x.png"), {}, &error));
  QVERIFY(!QFile::exists(dir.filePath("no/such/dir/x.png")));
}

void TestViews::csv() {
  HeatmapView heat;
  heat.setOperator(2, {1.0, 0.0, 0.25, 0.5});
  QCOMPARE(heat.toCsv(), QStringLiteral("row,0,1\n0,1,0\n1,0.25,0.5\n"));
  EssCurveView curve;
  EssSeries s;
  s.name = "head 0";
  s.splits = {1, 2};
  s.tolerance = {1, 2};
  s.entropy = {1, 1.5};
  s.tss = {std::nan(""), 4};
  curve.setSeries({s});
  QCOMPARE(curve.toCsv(), QStringLiteral("series,split,tolerance_ess,entropy_ess,tss\n"
                                         "head 0,1,1,1,\nhead 0,2,2,1.5,4\n"));
  // A total carries its utilization: one more column, and "total" in the legend.
  s.name = "layer total";
  s.utilization = {std::nan(""), 0.5};
  curve.setSeries({s});
  QCOMPARE(curve.toCsv(), QStringLiteral("series,split,tolerance_ess,entropy_ess,tss,utilization\n"
                                         "layer total,1,1,1,,\nlayer total,2,2,1.5,4,0.5\n"));
  QCOMPARE(curve.graph(0)->name(), QStringLiteral("total tolerance-ESS"));
}

QTEST_MAIN(TestViews)
#include "test_views.moc"

// Every view that zooms (heatmap, curve, spectrum, position; the Layers grid does not zoom)
// answers a double-click in its plot the same way: the zoom back to the whole data, the split
// where it was before the double-click's first click.
void TestViews::doubleClickResetsZoomOnly() {
  const int L = 40;
  SplitPoint sp;
  sp.setLength(L);
  HeatmapView heat;
  EssCurveView curve;
  SpectrumView spec;
  PositionEssView position;
  heat.setOperator(L, decayOperator(L), "decay");
  curve.setSeries({syntheticSeries(L)});
  QVector<double> sigma;
  for (int k = 0; k < 12; ++k) sigma.append(std::pow(10.0, -k));
  spec.setSpectrum(10, sigma, SpectrumCut{1e-3, 3});
  QStringList tokens;
  for (int i = 0; i < L; ++i) tokens << QStringLiteral("t%1").arg(i);
  position.setRows({{0, syntheticSeries(L)}}, tokens, "demo");
  const QList<PlotView*> views = {&heat, &curve, &spec, &position};
  for (PlotView* v : views) {
    v->resize(600, 500);
    v->setSplitPoint(&sp);
    connect(v, &PlotView::splitRequested, &sp, &SplitPoint::setSplit);
    v->show();
    QVERIFY(QTest::qWaitForWindowExposed(v));
    v->replot();
  }
  for (PlotView* v : views) {
    const QString name = v->metaObject()->className();
    QCPAxisRect* rect = v->axisRects().value(0);
    QCPAxis* x = rect->axis(QCPAxis::atBottom);
    QCPAxis* y = rect->axis(QCPAxis::atLeft);
    sp.setSplit(10);
    const QCPRange x0 = x->range(), y0 = y->range();
    // Zoomed in, the split at 10.
    x->setRange(x0.lower + 0.3 * x0.size(), x0.lower + 0.6 * x0.size());
    y->setRange(y0.lower + 0.2 * y0.size(), y0.lower + 0.5 * y0.size());
    v->replot();
    // A double-click in the plot: press and release (which may move the split), then the
    // double-click event and its release, as a window system delivers them.
    const QPoint at = rect->rect().center() + QPoint(rect->rect().width() / 5, 0);
    QTest::mouseClick(v, Qt::LeftButton, {}, at);
    QTest::mouseDClick(v, Qt::LeftButton, {}, at);
    QTest::mouseRelease(v, Qt::LeftButton, {}, at);
    QVERIFY2(std::abs(x->range().lower - x0.lower) < 1e-9 && std::abs(x->range().upper - x0.upper) < 1e-9,
             qPrintable(QStringLiteral("%1: x range %2..%3, not %4..%5")
                            .arg(name)
                            .arg(x->range().lower)
                            .arg(x->range().upper)
                            .arg(x0.lower)
                            .arg(x0.upper)));
    QVERIFY2(std::abs(y->range().lower - y0.lower) < 1e-9 * std::max(1.0, std::abs(y0.lower)) &&
                 std::abs(y->range().upper - y0.upper) < 1e-9 * std::max(1.0, std::abs(y0.upper)),
             qPrintable(QStringLiteral("%1: y range %2..%3, not %4..%5")
                            .arg(name)
                            .arg(y->range().lower)
                            .arg(y->range().upper)
                            .arg(y0.lower)
                            .arg(y0.upper)));
    QVERIFY2(sp.split() == 10, qPrintable(QStringLiteral("%1: the split moved to %2").arg(name).arg(sp.split())));
  }
}
