// Tests of long operators drawn from tiles (HeatmapView's tiled mode, Document and MainWindow):
// the overview spans the true matrix [0, L), the split outline and click-to-split work in true
// coordinates, zooming requests a detail tile that is drawn and holds the exact entries of T,
// the per-group picture of a tiled layer falls back to its first head, the memory budget
// setting reaches the session (a refused operator file is reported, the window goes on), and
// ESS curves arriving strided first keep the split cursor and the readout working.
#include <QApplication>
#include <QDoubleSpinBox>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QWheelEvent>
#include <QtTest>
#include <cmath>
#include <random>

#include "controls_panel.h"
#include "document.h"
#include "ess/session.h"
#include "ess_curve_view.h"
#include "gui_test_helpers.h"
#include "heatmap_view.h"
#include "main_window.h"
#include "spectrum_view.h"
#include "split_point.h"

namespace {

constexpr int kTimeout = 120000;

/// Writes a safetensors file of float64 tensors (name -> shape, values).
bool writeSafetensors(const QString& path, const QList<QPair<QString, QPair<QList<int>, QVector<double>>>>& tensors) {
  QJsonObject header;
  QByteArray data;
  for (const auto& [name, t] : tensors) {
    QJsonObject entry;
    entry["dtype"] = "F64";
    QJsonArray shape;
    for (int d : t.first) shape.append(d);
    entry["shape"] = shape;
    const qint64 begin = data.size();
    data.append(reinterpret_cast<const char*>(t.second.constData()), t.second.size() * qint64(sizeof(double)));
    entry["data_offsets"] = QJsonArray{begin, qint64(data.size())};
    header[name] = entry;
  }
  QByteArray json = QJsonDocument(header).toJson(QJsonDocument::Compact);
  while (json.size() % 8) json.append(' ');
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly)) return false;
  const quint64 n = quint64(json.size());
  QByteArray len(8, 0);
  for (int i = 0; i < 8; ++i) len[i] = char((n >> (8 * i)) & 0xff);
  return f.write(len) == 8 && f.write(json) == json.size() && f.write(data) == data.size();
}

/// A generator file (docs/definitions.md section 6): C, B [H, L, N] and log_a [H, L, N], float64.
bool writeGenerators(const QString& path, int H, int L, int N, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  QVector<double> C(H * L * N), B(H * L * N), logA(H * L * N);
  for (double& v : C) v = u(rng);
  for (double& v : B) v = u(rng);
  for (double& v : logA) v = -(0.05 * u(rng) + 1e-4);
  return writeSafetensors(path, {{"C", {{H, L, N}, C}}, {"B", {{H, L, N}, B}}, {"log_a", {{H, L, N}, logA}}});
}

bool near(double a, double b) { return std::abs(a - b) <= 1e-12 * std::max(1.0, std::abs(b)); }

struct Window : TestWindow {
  Window() : TestWindow(kTimeout) {}
};

bool openAndWait(Window& win, const QString& path) { return win.open(path); }

// A decaying lower-triangular test matrix: T[r, c] = 0.99^(r - c) (1 + c / L) for c <= r.
double decay(int L, int r, int c) { return c > r ? 0.0 : std::pow(0.99, r - c) * (1.0 + double(c) / L); }

HeatmapTile sampleTile(int L, int r0, int r1, int c0, int c1, int step) {
  HeatmapTile t;
  t.firstRow = r0;
  t.firstColumn = c0;
  t.rowStep = t.columnStep = step;
  t.rows = (r1 - r0 + step - 1) / step;
  t.columns = (c1 - c0 + step - 1) / step;
  for (int i = 0; i < t.rows; ++i)
    for (int j = 0; j < t.columns; ++j) t.values << decay(L, r0 + i * step, c0 + j * step);
  return t;
}

}  // namespace

class TestTiledHeatmap : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase();
  void tiledViewInTrueCoordinates();
  void stridedCurveKeepsCursorAndReadout();
  void longGeneratorFileFromTiles();
  void memoryBudgetRefusalIsShown();
};

void TestTiledHeatmap::initTestCase() {
  QStandardPaths::setTestModeEnabled(true);
  QCoreApplication::setOrganizationName(QStringLiteral("ess-explorer-tests"));
  QCoreApplication::setApplicationName(QStringLiteral("test_tiled_heatmap"));
  QSettings().clear();
}

// The widget alone: overview, outline, click-to-split, hover, a detail tile after zooming.
void TestTiledHeatmap::tiledViewInTrueCoordinates() {
  const int L = 3000, step = 4;
  SplitPoint sp;
  HeatmapView heat;
  heat.resize(700, 600);
  heat.show();
  QVERIFY(QTest::qWaitForWindowExposed(&heat));
  heat.setSplitPoint(&sp);
  connect(&heat, &PlotView::splitRequested, &sp, &SplitPoint::setSplit);
  heat.setTileDelay(20);
  QSignalSpy requests(&heat, &HeatmapView::tileRequested);
  heat.setTiledOperator(L, sampleTile(L, 0, L, 0, L, step), "long");
  sp.setLength(L);
  sp.setSplit(1200);
  QVERIFY(heat.isTiled());
  QCOMPARE(heat.length(), L);
  // The overview fills the whole matrix: axes cover [-0.5, L - 0.5], the map L / step cells.
  QVERIFY(heat.xAxis->range().lower <= -0.5 && heat.xAxis->range().upper >= L - 0.5);
  QVERIFY(heat.yAxis->range().lower <= -0.5 && heat.yAxis->range().upper >= L - 0.5);
  QCOMPARE(heat.colorMap()->data()->keySize(), L / step);
  QCOMPARE(heat.colorMap()->data()->keyRange().lower, 1.5);  // cell 0 covers columns 0..3
  QCOMPARE(heat.colorMap()->data()->keyRange().upper, L - 2.5);
  const QRectF outline = heat.hankelOutline();
  QCOMPARE(outline.top(), 1199.5);
  QCOMPARE(outline.right(), 1199.5);
  QCOMPARE(outline.bottom(), L - 0.5);
  // A cell between samples shows the sample of its block; the hover says it is reduced.
  QCOMPARE(heat.valueAt(1234, 567), decay(L, 1232, 564));
  int sr = 0, sc = 0;
  bool exact = true;
  QVERIFY(heat.sampleAt(1234, 567, &sr, &sc, &exact));
  QVERIFY(sr == 1232 && sc == 564 && !exact);
  heat.replot();
  QSignalSpy hover(&heat, &PlotView::hoverChanged);
  QTest::mouseMove(&heat, heat.pixelOf(567, 1234).toPoint());
  QTRY_VERIFY(!hover.isEmpty());
  QVERIFY2(hover.last().at(0).toString().contains("reduced-resolution"), qPrintable(hover.last().at(0).toString()));
  // The colour scale comes from the overview: linear, then log10 (zeros below the floor).
  QCOMPARE(heat.colorMap()->dataRange().upper, decay(L, 2996, 2996));
  heat.setScale(HeatmapView::Scale::Log10);
  QVERIFY(heat.colorScale()->axis()->label().contains("log10"));
  const QCPRange logRange = heat.colorMap()->dataRange();
  heat.setScale(HeatmapView::Scale::Linear);
  // The overview is as fine as the screen at full view: no detail is asked for.
  QTest::qWait(100);
  QCOMPARE(requests.count(), 0);

  // Zoom to 100 x 100 cells: a detail tile of the visible region, one sample per entry.
  heat.xAxis->setRange(999.5, 1099.5);
  heat.yAxis->setRange(1499.5, 1599.5);
  heat.replot();
  QTRY_VERIFY(requests.count() > 0);
  const QList<QVariant> req = requests.last();
  QCOMPARE(req.at(0).toInt(), 1500);
  QCOMPARE(req.at(1).toInt(), 1600);
  QCOMPARE(req.at(2).toInt(), 1000);
  QCOMPARE(req.at(3).toInt(), 1100);
  QVERIFY(req.at(4).toInt() >= 100 && req.at(5).toInt() >= 100);
  heat.setDetailTile(sampleTile(L, 1500, 1600, 1000, 1100, 1));
  QVERIFY(heat.detailMap()->visible());
  QCOMPARE(heat.detailMap()->data()->keySize(), 100);
  QCOMPARE(heat.valueAt(1534, 1067), decay(L, 1534, 1067));
  QVERIFY(heat.sampleAt(1534, 1067, &sr, &sc, &exact) && exact && sr == 1534 && sc == 1067);
  // Outside the detail, the overview's sample is still there.
  QCOMPARE(heat.valueAt(10, 5), decay(L, 8, 4));
  // Click next to the column line x = 1049.5 (zoomed: exact): split 1050.
  heat.replot();
  QTest::mouseClick(&heat, Qt::LeftButton, {}, heat.pixelOf(1049.45, 1580).toPoint());
  QCOMPARE(sp.split(), 1050);
  QCOMPARE(heat.hankelOutline().top(), 1049.5);
  // The same view again asks for nothing new; the colour scale did not move.
  const int before = requests.count();
  heat.xAxis->setRange(1009.5, 1089.5);
  heat.replot();
  QTest::qWait(100);
  QCOMPARE(requests.count(), before);
  heat.setScale(HeatmapView::Scale::Log10);
  QCOMPARE(heat.colorMap()->dataRange(), logRange);
  // The CSV holds the overview's samples with their true indices.
  QVERIFY(heat.toCsv().startsWith("row,0,4,8,"));
  // After the user zoomed (wheel), another head of the same length keeps the view and asks
  // for its own detail.
  const QPointF centre = heat.pixelOf(1050, 1550);
  QWheelEvent wheel(centre, heat.mapToGlobal(centre), QPoint(), QPoint(0, 120), Qt::NoButton, Qt::NoModifier,
                    Qt::NoScrollPhase, false);
  QApplication::sendEvent(&heat, &wheel);
  const QCPRange zoomed = heat.xAxis->range();
  QVERIFY(zoomed.size() < 80);
  const int asked = requests.count();
  heat.setTiledOperator(L, sampleTile(L, 0, L, 0, L, 5), "another head");
  QCOMPARE(heat.xAxis->range(), zoomed);
  QVERIFY(heat.detailTile().isEmpty());
  QTRY_VERIFY(requests.count() > asked);
  heat.resetView();
  // Dense mode again: the detail is gone.
  heat.setOperator(4, QVector<double>(16, 1.0));
  QVERIFY(!heat.isTiled() && !heat.detailMap()->visible());
  QCOMPARE(heat.valueAt(3, 3), 1.0);
}

// A curve that arrives strided first: the cursor sits at the split asked for and the readout
// names the nearest evaluated split.
void TestTiledHeatmap::stridedCurveKeepsCursorAndReadout() {
  const int L = 2000;
  SplitPoint sp;
  EssCurveView curve;
  curve.resize(600, 300);
  curve.setSplitPoint(&sp);
  EssSeries s;
  s.name = "head 0";
  for (int split = 1; split < L; split += 32) {
    s.splits << split;
    s.tolerance << 1.0 + split / 100.0;
    s.entropy << 0.5 + split / 200.0;
    s.tss << 64;
  }
  curve.setSeries({s}, "ESS [strided, refining…]");
  sp.setLength(L);
  sp.setSplit(500);  // evaluated: 481 and 513
  QCOMPARE(curve.cursorPosition(), 500.0);
  QVERIFY2(curve.title().contains("s = 513: tolerance-ESS 6.13"), qPrintable(curve.title()));
  sp.setSplit(1999);
  QCOMPARE(curve.cursorPosition(), 1999.0);
  QVERIFY2(curve.title().contains("s = 1985:"), qPrintable(curve.title()));
}

// The window on a generator file whose dense operator exceeds the memory budget.
void TestTiledHeatmap::longGeneratorFileFromTiles() {
  QTemporaryDir dir;
  const QString path = dir.filePath("gen_L2100.safetensors");
  const int H = 2, L = 2100, N = 4;
  QVERIFY(writeGenerators(path, H, L, N, 11));
  // 2 x 2100 x 2100 float64 = 70.6 MB: over a budget of 0.01 GiB (10.7 MB).
  QSettings().setValue("memoryBudgetGiB", 0.01);
  Window win;
  MainWindow& w = win.w;
  QCOMPARE(w.controls()->memoryBudgetBox()->value(), 0.01);
  QSignalSpy curves(w.document(), &Document::curveReady);
  bool sawStrided = false, stridedOk = true;
  QString stridedTitle;
  connect(w.document(), &Document::curveReady, &w, [&](int, bool complete) {
    // Runs after the window handled the curve: it shows the strided curve now.
    if (complete || sawStrided) return;
    sawStrided = true;
    const ess::CurveData* c = w.document()->curveData(0);
    stridedOk = c && c->splits.size() > 1 && c->splits[1] - c->splits[0] > 1;
    w.splitPoint()->setSplit(1000);
    stridedOk = stridedOk && w.curveView()->cursorPosition() == 1000.0 && w.curveView()->title().contains("s = ");
    stridedTitle = w.curveView()->title();
  });
  QVERIFY(openAndWait(win, path));
  QVERIFY(w.document()->isTiled(0));
  QTRY_VERIFY_WITH_TIMEOUT(w.heatmapView()->isTiled() && w.heatmapView()->length() == L, kTimeout);
  QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
  HeatmapView* heat = w.heatmapView();
  QVERIFY2(heat->title().contains("L = 2100\ntiled: overview 1:3"), qPrintable(heat->title()));
  const HeatmapTile overview = heat->overviewTile();
  QCOMPARE(overview.firstRow, 0);
  QCOMPARE(overview.rowStep, 3);
  QCOMPARE(overview.rowEnd(), L);
  QCOMPARE(overview.columnEnd(), L);
  QCOMPARE(w.splitPoint()->length(), L);
  // The tiles equal the dense operator (formed by a session with the default budget).
  auto dense = ess::Session::open(path.toStdString());
  const ess::OperatorData op = dense->operatorOf(0);
  for (int i = 0; i < overview.rows; i += 37)
    for (int j = 0; j <= i; j += 29) QVERIFY(near(overview.values[i * overview.columns + j], op.at(0, 3 * i, 3 * j)));

  // Zoom in: a detail tile arrives with the exact entries of the visible region.
  QSignalSpy requests(heat, &HeatmapView::tileRequested);
  QSignalSpy tiles(w.document(), &Document::tileReady);
  heat->xAxis->setRange(799.5, 899.5);
  heat->yAxis->setRange(1199.5, 1299.5);
  heat->replot();
  QTRY_VERIFY_WITH_TIMEOUT(!heat->detailTile().isEmpty(), kTimeout);
  QVERIFY(requests.count() > 0);
  QVERIFY(tiles.count() > 0 && !tiles.last().at(2).toBool());
  const HeatmapTile detail = heat->detailTile();
  QVERIFY(detail.isExact());
  QVERIFY(detail.covers(1200, 800) && detail.covers(1299, 899));
  for (int r = 1200; r < 1300; r += 7)
    for (int c = 800; c < 900; c += 3) QVERIFY(near(heat->valueAt(r, c), op.at(0, r, c)));
  // Click-to-split in true coordinates, the outline follows.
  heat->replot();
  QTest::mouseClick(heat, Qt::LeftButton, {}, heat->pixelOf(849.45, 1280).toPoint());
  QCOMPARE(w.splitPoint()->split(), 850);
  QCOMPARE(heat->hankelOutline().top(), 849.5);
  QCOMPARE(heat->hankelOutline().bottom(), L - 0.5);
  // The spectrum and the curve come without a dense operator.
  QTRY_VERIFY_WITH_TIMEOUT(w.spectrumView()->dataSplit() == 850, kTimeout);
  QTRY_VERIFY_WITH_TIMEOUT(!curves.isEmpty() && curves.last().at(1).toBool(), kTimeout);
  QVERIFY2(sawStrided && stridedOk, qPrintable(stridedTitle));
  QVERIFY(!w.document()->operatorData(0));

  // Head 1, then the layer total: the first head from tiles, said in the title.
  w.selectHead(0, 1);
  QTRY_VERIFY_WITH_TIMEOUT(heat->title().contains("head 1"), kTimeout);
  QVERIFY(near(heat->valueAt(300, 30), op.at(1, 300, 30)));
  w.selectLayerTotal(0);
  QTRY_VERIFY_WITH_TIMEOUT(heat->title().contains("no mean |T| when tiled"), kTimeout);
  QVERIFY(heat->isTiled());
  QVERIFY(near(heat->valueAt(300, 30), op.at(0, 300, 30)));
  QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));

  // Raising the budget draws the dense operator again.
  w.controls()->memoryBudgetBox()->setValue(1.0);
  QCOMPARE(QSettings().value("memoryBudgetGiB").toDouble(), 1.0);
  QVERIFY(!w.document()->isTiled(0));
  w.selectHead(0, 0);
  QTRY_VERIFY_WITH_TIMEOUT(!heat->isTiled() && heat->length() == L, kTimeout);
  QCOMPARE(heat->valueAt(1234, 567), op.at(0, 1234, 567));
  QSettings().remove("memoryBudgetGiB");
}

// An operator file over the budget is refused with the session's message; after raising the
// budget it opens.
void TestTiledHeatmap::memoryBudgetRefusalIsShown() {
  QTemporaryDir dir;
  const QString path = dir.filePath("op_L1300.safetensors");
  const int L = 1300;  // 13.5 MB
  QVector<double> values(L * L, 0.0);
  for (int r = 0; r < L; ++r)
    for (int c = 0; c <= r; ++c) values[r * L + c] = decay(L, r, c);
  QVERIFY(writeSafetensors(path, {{"operator", {{L, L}, values}}}));
  Window win;
  MainWindow& w = win.w;
  w.controls()->memoryBudgetBox()->setValue(0.01);
  QSignalSpy failed(w.document(), &Document::openFailed);
  w.openPath(path);
  QTRY_VERIFY_WITH_TIMEOUT(!failed.isEmpty(), kTimeout);
  QCOMPARE(win.errors.size(), 1);
  QVERIFY2(win.errors[0].contains("memory budget") && win.errors[0].contains("op_L1300.safetensors"),
           qPrintable(win.errors[0]));
  QVERIFY(!w.document()->isOpen());
  w.controls()->memoryBudgetBox()->setValue(0.5);
  QVERIFY(openAndWait(win, path));
  QTRY_VERIFY_WITH_TIMEOUT(w.heatmapView()->length() == L && !w.heatmapView()->isTiled(), kTimeout);
  QCOMPARE(w.heatmapView()->valueAt(700, 3), decay(L, 700, 3));
  QSettings().remove("memoryBudgetGiB");
}

QTEST_MAIN(TestTiledHeatmap)
#include "test_tiled_heatmap.moc"
