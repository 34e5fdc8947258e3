// Tests of the ESS Explorer main window on real files: opening an operator file (and the
// bundled demo checkpoint when present), the layer/head tree, the split moved by the slider,
// arrow keys and clicks staying in step across heatmap, ESS curve and spectrum, errors shown
// without losing the document, drag and drop, the layer comparison, and figure export.
#include <QDir>
#include <QFile>
#include <QImage>
#include <QMessageBox>
#include <QMimeData>
#include <QTimer>
#include <QSettings>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QXmlStreamReader>
#include <QtTest>
#include <cmath>
#include <random>

#include "controls_panel.h"
#include "document.h"
#include "ess_curve_view.h"
#include "heatmap_view.h"
#include "layer_comparison_view.h"
#include "main_window.h"
#include "spectrum_view.h"
#include "split_point.h"

namespace {

const QString kOperatorFile = QStringLiteral(ESS_TEST_DATA_DIR "/softmax_attention_h2_L64.safetensors");
const QString kBadFile = QStringLiteral(ESS_TEST_DATA_DIR "/bad/not_json.safetensors");
// The bundled demo checkpoint; ESS_DEMO_CHECKPOINT points the test at another ess-lm directory.
const QString kDemoDir = qEnvironmentVariable("ESS_DEMO_CHECKPOINT", QStringLiteral(ESS_DEMO_DIR "/hybrid"));
constexpr int kTimeout = 120000;

struct Window {
  MainWindow w;
  QStringList errors;
  Window() {
    w.setErrorPresenter([this](const QString&, const QString& message) { errors << message; });
    w.resize(1400, 900);
    w.show();
  }
};

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

// All three views show the same split, and the spectrum holds singular values of that split.
bool viewsAgree(MainWindow& w, int split) {
  return w.splitPoint()->split() == split && w.splitSlider()->value() == split &&
         w.splitSpinBox()->value() == split && w.heatmapView()->hankelOutline().top() == split - 0.5 &&
         w.heatmapView()->hankelOutline().right() == split - 0.5 &&
         w.curveView()->cursorPosition() == double(split) && w.spectrumView()->dataSplit() == split;
}

bool openAndWait(Window& win, const QString& path) {
  QSignalSpy opened(win.w.document(), &Document::opened);
  win.w.openPath(path);
  if (!opened.wait(kTimeout)) return false;
  return true;
}

}  // namespace

class TestMainWindow : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase();
  void opensOperatorFileAndKeepsViewsInStep();
  void errorKeepsPreviousDocument();
  void optionsChangeThreshold();
  void layerComparisonOpensHead();
  void dropOpensFile();
  void exportsFromMainWindow();
  void opensDemoCheckpoint();
  void longCurveShowsProgressAndCancels();
};

void TestMainWindow::initTestCase() {
  QStandardPaths::setTestModeEnabled(true);
  QCoreApplication::setOrganizationName(QStringLiteral("ess-explorer-tests"));
  QCoreApplication::setApplicationName(QStringLiteral("test_main_window"));
  QSettings().clear();
}

void TestMainWindow::opensOperatorFileAndKeepsViewsInStep() {
  Window win;
  MainWindow& w = win.w;
  QVERIFY(openAndWait(win, kOperatorFile));
  QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
  QCOMPARE(w.document()->path(), kOperatorFile);
  QStringList recent = QSettings().value("recentFiles").toStringList();
  QCOMPARE(recent.value(0), QFileInfo(kOperatorFile).absoluteFilePath());

  // The tree: one layer with its total and two heads.
  QTreeWidget* tree = w.layerTree();
  QCOMPARE(tree->topLevelItemCount(), 1);
  QVERIFY(tree->topLevelItem(0)->text(0).startsWith("layer 0: "));
  QVERIFY(tree->topLevelItem(0)->text(0).contains("(2 heads)"));
  QCOMPARE(tree->topLevelItem(0)->childCount(), 3);
  QVERIFY(tree->topLevelItem(0)->child(0)->text(0).startsWith("layer total"));
  QTRY_COMPARE_WITH_TIMEOUT(w.heatmapView()->length(), 64, kTimeout);

  // Select head 1 in the tree: the heatmap shows head 1 of the operator.
  tree->setCurrentItem(tree->topLevelItem(0)->child(2));
  QCOMPARE(w.currentLayer(), 0);
  QCOMPARE(w.currentHead(), 1);
  const ess::OperatorData* op = w.document()->operatorData(0);
  QVERIFY(op);
  QTRY_VERIFY_WITH_TIMEOUT(w.heatmapView()->title().contains("head 1"), kTimeout);
  QCOMPARE(w.heatmapView()->valueAt(40, 3), op->at(1, 40, 3));
  QCOMPARE(w.heatmapView()->valueAt(10, 10), op->at(1, 10, 10));
  QTRY_VERIFY_WITH_TIMEOUT(!w.curveView()->series().isEmpty(), kTimeout);
  QCOMPARE(w.curveView()->series().first().name, QStringLiteral("head 1"));

  // Slider.
  w.splitSlider()->setValue(20);
  QTRY_VERIFY_WITH_TIMEOUT(viewsAgree(w, 20), kTimeout);
  QCOMPARE(w.spectrumView()->sigma().size(), 20);  // min(s, L - s)
  // The spectrum's count above the threshold is the tolerance-ESS of the curve at s.
  const EssSeries& series = w.curveView()->series().first();
  const int i = series.splits.indexOf(20);
  QVERIFY(i >= 0);
  QCOMPARE(double(w.spectrumView()->countAboveThreshold()), series.tolerance[i]);

  // Arrow keys on the heatmap, the tree (Shift = 10) and the window.
  QTest::keyClick(w.heatmapView(), Qt::Key_Right);
  QTRY_VERIFY_WITH_TIMEOUT(viewsAgree(w, 21), kTimeout);
  QTest::keyClick(tree, Qt::Key_Right, Qt::ShiftModifier);
  QTRY_VERIFY_WITH_TIMEOUT(viewsAgree(w, 31), kTimeout);
  QTest::keyClick(&w, Qt::Key_Left);
  QTRY_VERIFY_WITH_TIMEOUT(viewsAgree(w, 30), kTimeout);
  QTest::keyClick(w.splitSlider(), Qt::Key_Left, Qt::ShiftModifier);
  QTRY_VERIFY_WITH_TIMEOUT(viewsAgree(w, 20), kTimeout);
  QCOMPARE(w.currentHead(), 1);  // the arrows did not move the tree

  // Spin box.
  w.splitSpinBox()->setValue(50);
  QTRY_VERIFY_WITH_TIMEOUT(viewsAgree(w, 50), kTimeout);

  // A click next to the column line between columns 9 and 10 on the heatmap: split 10.
  QTRY_VERIFY_WITH_TIMEOUT(w.heatmapView()->isVisible(), kTimeout);
  w.heatmapView()->replot();
  QTest::mouseClick(w.heatmapView(), Qt::LeftButton, {}, w.heatmapView()->pixelOf(9.45, 40).toPoint());
  QTRY_VERIFY_WITH_TIMEOUT(viewsAgree(w, 10), kTimeout);

  // A click on the ESS curve at s = 44.
  EssCurveView* curve = w.curveView();
  curve->replot();
  QTest::mouseClick(curve, Qt::LeftButton, {},
                    QPoint(int(curve->xAxis->coordToPixel(44)), curve->axisRect()->rect().center().y()));
  QTRY_VERIFY_WITH_TIMEOUT(viewsAgree(w, 44), kTimeout);
  QCOMPARE(w.spectrumView()->sigma().size(), 20);  // min(44, 20)
  QVERIFY(win.errors.isEmpty());
}

void TestMainWindow::errorKeepsPreviousDocument() {
  Window win;
  MainWindow& w = win.w;
  QVERIFY(openAndWait(win, kOperatorFile));
  QTRY_COMPARE_WITH_TIMEOUT(w.heatmapView()->length(), 64, kTimeout);
  QSignalSpy failed(w.document(), &Document::openFailed);
  w.openPath(kBadFile);
  QVERIFY(failed.wait(kTimeout));
  QCOMPARE(win.errors.size(), 1);
  QVERIFY2(win.errors.first().contains("not_json.safetensors"), qPrintable(win.errors.first()));
  // The window keeps the previous document and stays usable.
  QCOMPARE(w.document()->path(), kOperatorFile);
  QCOMPARE(w.layerTree()->topLevelItemCount(), 1);
  QCOMPARE(w.heatmapView()->length(), 64);
  w.splitSlider()->setValue(12);
  QTRY_VERIFY_WITH_TIMEOUT(viewsAgree(w, 12), kTimeout);

  // A missing file, too.
  w.openPath(QStringLiteral(ESS_TEST_DATA_DIR "/no_such_file.safetensors"));
  QVERIFY(failed.wait(kTimeout));
  QCOMPARE(win.errors.size(), 2);
  QCOMPARE(w.document()->path(), kOperatorFile);

  // The default presenter is a real dialog; close it from a timer so the test does not block.
  w.setErrorPresenter(nullptr);
  bool sawBox = false;
  MainWindow::ErrorPresenter modal = [&](const QString& title, const QString& message) {
    QTimer::singleShot(50, [&] {
      if (auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget())) {
        sawBox = box->text().contains("not_json");
        box->accept();
      }
    });
    QMessageBox::critical(&w, title, message);
  };
  w.setErrorPresenter(modal);
  w.openPath(kBadFile);
  QVERIFY(failed.wait(kTimeout));
  QTRY_VERIFY_WITH_TIMEOUT(sawBox, 5000);
  QCOMPARE(w.document()->path(), kOperatorFile);
}

void TestMainWindow::optionsChangeThreshold() {
  Window win;
  MainWindow& w = win.w;
  QVERIFY(openAndWait(win, kOperatorFile));
  QTRY_COMPARE_WITH_TIMEOUT(w.heatmapView()->length(), 64, kTimeout);
  w.splitSlider()->setValue(32);
  QTRY_VERIFY_WITH_TIMEOUT(viewsAgree(w, 32), kTimeout);
  w.controls()->toleranceBox()->setValue(1e-2);
  QCOMPARE(w.document()->options().tolerance_, 1e-2);
  QTRY_VERIFY_WITH_TIMEOUT(std::abs(w.spectrumView()->threshold() - 1e-2 * w.spectrumView()->sigma().value(0)) <
                               1e-15,
                           kTimeout);
  // The curve is recomputed with the new tolerance and agrees with the spectrum again.
  QTRY_VERIFY_WITH_TIMEOUT(!w.curveView()->series().isEmpty() && w.curveView()->title().contains("tol 0.01"), kTimeout);
  const EssSeries& s = w.curveView()->series().first();
  QCOMPARE(double(w.spectrumView()->countAboveThreshold()), s.tolerance[s.splits.indexOf(32)]);
  w.controls()->normalizationBox()->setCurrentIndex(1);  // sum
  QVERIFY(w.document()->options().normalization_ == ess::Normalization::Sum);
  w.controls()->logScaleBox()->setChecked(true);
  QCOMPARE(w.heatmapView()->scale(), HeatmapView::Scale::Log10);
  QVERIFY(win.errors.isEmpty());
}

void TestMainWindow::layerComparisonOpensHead() {
  Window win;
  MainWindow& w = win.w;
  QVERIFY(openAndWait(win, kOperatorFile));
  QSignalSpy ready(w.document(), &Document::layerSummaryReady);
  w.tabs()->setCurrentIndex(1);
  QVERIFY(ready.count() > 0 || ready.wait(kTimeout));
  LayerComparisonView* view = w.layerView();
  QTRY_COMPARE_WITH_TIMEOUT(view->values().size(), 1, kTimeout);
  QCOMPARE(view->values()[0].size(), 2);
  QVERIFY(std::isfinite(view->values()[0][0]) && view->values()[0][0] > 0);
  QVERIFY2(view->toCsv().startsWith("layer,head,mean_tolerance_ess,mean_entropy_ess,mean_tss,mean_utilization\n0,total,"),
           qPrintable(view->toCsv()));
  QVERIFY(view->toCsv().contains("\n0,1,"));
  // The bars: the layer total is the sum of both heads' mean tolerance-ESS (d_v = 1).
  QCOMPARE(view->totals().size(), 1);
  QVERIFY(std::abs(view->totals()[0].tolerance - (view->values()[0][0] + view->values()[0][1])) < 1e-9);
  QVERIFY(std::isnan(view->totals()[0].tss));  // an operator file has no TSS
  view->replot();
  QTest::mouseClick(view, Qt::LeftButton, {}, view->cellCenter(0, 1).toPoint());
  QCOMPARE(w.tabs()->currentIndex(), 0);
  QCOMPARE(w.currentHead(), 1);
  QCOMPARE(w.layerTree()->currentItem()->text(0), QStringLiteral("head 1"));
}

void TestMainWindow::dropOpensFile() {
  Window win;
  MainWindow& w = win.w;
  QVERIFY(openAndWait(win, kOperatorFile));
  const QString other = QStringLiteral(ESS_TEST_DATA_DIR "/gla_d4_L64.safetensors");
  auto* mime = new QMimeData;
  mime->setUrls({QUrl::fromLocalFile(other)});
  QSignalSpy opened(w.document(), &Document::opened);
  QDragEnterEvent enter(QPoint(100, 100), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(&w, &enter);
  QVERIFY(enter.isAccepted());
  QDropEvent drop(QPointF(100, 100), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(&w, &drop);
  QVERIFY(opened.wait(kTimeout));
  QCOMPARE(w.document()->path(), other);
  QCOMPARE(QSettings().value("recentFiles").toStringList().value(0), QFileInfo(other).absoluteFilePath());
  delete mime;
}

void TestMainWindow::exportsFromMainWindow() {
  Window win;
  MainWindow& w = win.w;
  QVERIFY(openAndWait(win, kOperatorFile));
  QTRY_COMPARE_WITH_TIMEOUT(w.heatmapView()->length(), 64, kTimeout);
  QTRY_VERIFY_WITH_TIMEOUT(!w.curveView()->series().isEmpty(), kTimeout);
  QTRY_VERIFY_WITH_TIMEOUT(w.spectrumView()->dataSplit() == w.splitPoint()->split(), kTimeout);
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  for (PlotView* v : {static_cast<PlotView*>(w.heatmapView()), static_cast<PlotView*>(w.curveView()),
                      static_cast<PlotView*>(w.spectrumView())}) {
    const QString base = dir.filePath(v->figureName());
    QString error;
    QVERIFY2(w.exportView(v, base + ".png", {900, 600, 150}, &error), qPrintable(error));
    QImage img(base + ".png");
    QVERIFY(!img.isNull());
    QCOMPARE(img.size(), QSize(900, 600));
    QVERIFY2(w.exportView(v, base + ".pdf", {600, 400}, &error), qPrintable(error));
    QFile pdf(base + ".pdf");
    QVERIFY(pdf.open(QIODevice::ReadOnly));
    QVERIFY(pdf.read(5).startsWith("%PDF"));
    QVERIFY2(w.exportView(v, base + ".svg", {600, 400}, &error), qPrintable(error));
    QVERIFY(isSvg(base + ".svg"));
    QVERIFY2(w.exportView(v, base + ".csv", {}, &error), qPrintable(error));
    QVERIFY(QFileInfo(base + ".csv").size() > 20);
  }
  // The heatmap CSV holds the matrix: header plus 64 rows.
  QFile csv(dir.filePath("heatmap.csv"));
  QVERIFY(csv.open(QIODevice::ReadOnly));
  QCOMPARE(csv.readAll().count('\n'), 65);
}

void TestMainWindow::opensDemoCheckpoint() {
  if (!QDir(kDemoDir).exists()) QSKIP("no bundled demo checkpoint (resources/demo/hybrid)");
  Window win;
  MainWindow& w = win.w;
  QVERIFY(openAndWait(win, kDemoDir));
  QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
  const int layers = w.document()->layerCount();
  QVERIFY(layers >= 1);
  QCOMPARE(w.layerTree()->topLevelItemCount(), layers);
  QVERIFY(w.document()->info().needsInput);
  // Last layer, last head.
  QTreeWidgetItem* last = w.layerTree()->topLevelItem(layers - 1);
  w.layerTree()->setCurrentItem(last->child(last->childCount() - 1));
  QCOMPARE(w.currentLayer(), layers - 1);
  QTRY_VERIFY_WITH_TIMEOUT(w.heatmapView()->length() > 1 && w.heatmapView()->title().contains(
                               QStringLiteral("layer %1").arg(layers - 1)),
                           kTimeout);
  const int L = w.heatmapView()->length();
  w.splitSlider()->setValue(L / 3);
  QTRY_VERIFY_WITH_TIMEOUT(viewsAgree(w, L / 3), kTimeout);
  QTest::keyClick(w.heatmapView(), Qt::Key_Right, Qt::ShiftModifier);
  QTRY_VERIFY_WITH_TIMEOUT(viewsAgree(w, std::min(L - 1, L / 3 + 10)), kTimeout);

  // A new input: an MQAR sample with another seed.
  QSignalSpy inputChanged(w.document(), &Document::inputChanged);
  w.controls()->specEdit()->setText(QStringLiteral("random:seed=3,len=%1").arg(std::min(L, 48)));
  QTest::keyClick(w.controls()->specEdit(), Qt::Key_Return);
  QVERIFY(inputChanged.wait(kTimeout));
  QTRY_COMPARE_WITH_TIMEOUT(w.heatmapView()->length(), std::min(L, 48), kTimeout);
  // A bad spec is an error; the input stays.
  const QString spec = w.document()->inputSpec();
  w.controls()->specEdit()->setText(QStringLiteral("tokens:1,x"));
  QTest::keyClick(w.controls()->specEdit(), Qt::Key_Return);
  QTRY_COMPARE_WITH_TIMEOUT(win.errors.size(), 1, kTimeout);
  QCOMPARE(w.document()->inputSpec(), spec);

  // Layer comparison of every layer.
  QSignalSpy ready(w.document(), &Document::layerSummaryReady);
  w.tabs()->setCurrentIndex(1);
  QVERIFY(ready.count() > 0 || ready.wait(kTimeout));
  QCOMPARE(w.layerView()->values().size(), layers);
}

void TestMainWindow::longCurveShowsProgressAndCancels() {
  // A dense random causal operator long enough that its curve takes seconds: the strided
  // curve arrives first, progress is reported, and cancel stops the rest.
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const QString path = dir.filePath("random_L700.safetensors");
  ess::OperatorData op;
  op.heads = 1;
  op.length = 700;
  op.values.assign(size_t(op.length) * op.length, 0.0);
  std::mt19937 rng(7);
  std::normal_distribution<double> normal;
  for (int r = 0; r < op.length; ++r)
    for (int c = 0; c <= r; ++c) op.values[size_t(r) * op.length + c] = normal(rng);
  ess::writeOperatorFile(path.toStdString(), op);

  Window win;
  MainWindow& w = win.w;
  QSignalSpy curveReady(w.document(), &Document::curveReady);
  QSignalSpy progress(w.document(), &Document::progressChanged);
  QSignalSpy cancelled(w.document(), &Document::cancelled);
  QVERIFY(openAndWait(win, path));
  QTRY_COMPARE_WITH_TIMEOUT(w.heatmapView()->length(), 700, kTimeout);
  QVERIFY(w.document()->isBusy());
  QTRY_VERIFY_WITH_TIMEOUT(progress.count() > 0 || !w.document()->isBusy(), kTimeout);
  if (!w.document()->isBusy()) QSKIP("the whole curve finished before it could be cancelled");
  // The strided first pass came before the full one.
  QVERIFY(curveReady.count() >= 1);
  QCOMPARE(curveReady.first().at(1).toBool(), false);
  QVERIFY(w.curveView()->title().contains("strided"));
  w.document()->cancel();
  QTRY_VERIFY_WITH_TIMEOUT(!w.document()->isBusy(), kTimeout);
  QVERIFY(cancelled.count() == 1 || curveReady.last().at(1).toBool());
  QVERIFY(win.errors.isEmpty());
  // The window still works after the cancel: the split moves and the spectrum follows.
  w.splitSlider()->setValue(100);
  QTRY_VERIFY_WITH_TIMEOUT(w.spectrumView()->dataSplit() == 100, kTimeout);
}

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
