// Tests of the per-layer aggregates in the window: the layer comparison of every bundled demo
// (one bar group per layer with finite ESS and TSS), and, on a small ess-lm checkpoint with a
// short-convolution layer of 32 channels, the tree's channel groups and layer total, whose
// curve is the sum of the channels' curves (docs/definitions.md section 1), the mean |T| heatmap and the
// split cursor.
#include "ess/model.h"  // LibTorch before Qt

#include <QDir>
#include <QSettings>
#include <QSignalSpy>
#include <QSlider>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>
#include <cmath>

#include "document.h"
#include "ess_curve_view.h"
#include "gui_test_helpers.h"
#include "heatmap_view.h"
#include "layer_comparison_view.h"
#include "main_window.h"
#include "spectrum_view.h"
#include "split_point.h"

namespace {

constexpr int kTimeout = 300000;

struct Window : TestWindow {
  Window() : TestWindow(kTimeout) {}
};

// The demo checkpoint directories: resources/demo/*/ with a config.json.
QStringList demoDirs() {
  QStringList dirs;
  const QDir root(QStringLiteral(ESS_DEMO_DIR));
  for (const QString& name : root.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name))
    if (QFileInfo::exists(root.filePath(name + "/config.json"))) dirs << root.filePath(name);
  return dirs;
}

bool near(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b)); }

}  // namespace

class TestLayerAggregates : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("ess-explorer-tests"));
    QCoreApplication::setApplicationName(QStringLiteral("test_layer_aggregates"));
    QSettings().clear();
  }

  void everyDemoHasLayerBars_data() {
    QTest::addColumn<QString>("dir");
    const QStringList dirs = demoDirs();
    if (dirs.isEmpty()) QTest::newRow("none") << QString();
    for (const QString& d : dirs) QTest::newRow(qPrintable(QFileInfo(d).fileName())) << d;
  }
  void everyDemoHasLayerBars() {
    QFETCH(QString, dir);
    if (dir.isEmpty()) QSKIP("no bundled demo checkpoints in resources/demo");
    Window win;
    MainWindow& w = win.w;
    QVERIFY(win.open(dir));
    QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
    const ess::SourceInfo& info = w.document()->info();
    const int layers = int(info.layers.size());
    QVERIFY(layers >= 1);
    QSignalSpy ready(w.document(), &Document::layerSummaryReady);
    w.tabs()->setCurrentIndex(1);
    QVERIFY(ready.count() > 0 || ready.wait(kTimeout));
    QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
    LayerComparisonView* view = w.layerView();
    QTRY_COMPARE_WITH_TIMEOUT(view->totals().size(), layers, kTimeout);
    QCOMPARE(view->values().size(), layers);
    for (QCPBars* bars : view->bars()) QCOMPARE(bars->data()->size(), layers);
    for (int l = 0; l < layers; ++l) {
      const LayerTotals& t = view->totals()[l];
      const QString what = QStringLiteral("%1 layer %2 (%3)").arg(dir).arg(l).arg(t.label);
      QVERIFY2(std::isfinite(t.tolerance) && t.tolerance > 0, qPrintable(what));
      QVERIFY2(std::isfinite(t.entropy) && t.entropy > 0, qPrintable(what));
      QVERIFY2(std::isfinite(t.tss) && t.tss > 0, qPrintable(what));
      QVERIFY2(std::isfinite(t.utilization) && t.utilization > 0, qPrintable(what));
      QVERIFY(t.label.contains(QString::fromStdString(info.layers[l].mixer)));
      // The bar is the total: the curve's heads summed, each times d_v, averaged over splits.
      const ess::CurveData* c = w.document()->curveData(l);
      QVERIFY(c);
      double sum = 0;
      for (const auto& head : c->tolerance)
        for (double v : head) sum += v;
      QVERIFY2(near(t.tolerance, sum * info.layers[l].valueChannels / c->splits.size()), qPrintable(what));
      // The grid never grows past 16 columns: wide layers show channel groups.
      QVERIFY(view->values()[l].size() <= 16);
      QCOMPARE(view->values()[l].size(), std::min(16, info.layers[l].heads));
    }
    // Exports like the other views.
    QTemporaryDir out;
    QString error;
    QVERIFY2(w.exportView(view, out.filePath("layers.svg"), {800, 500}, &error), qPrintable(error));
    QVERIFY(QFileInfo(out.filePath("layers.svg")).size() > 1000);
    QVERIFY2(w.exportView(view, out.filePath("layers.csv"), {}, &error), qPrintable(error));
    QCOMPARE(view->toCsv().count(QStringLiteral(",total,")), layers);
  }

  void channelLayerShowsGroupsAndTotal() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    ess::ModelConfig cfg;
    cfg.vocabSize = 16;
    cfg.dModel = 32;
    cfg.numHeads = 2;
    cfg.maxLength = 24;
    cfg.mlpHidden = 32;
    cfg.mixers = {"short_conv", "linear_attention"};
    cfg.convKernel = 4;
    ess::EssLm model(cfg, 5);
    ess::saveEssLm(model, dir.path().toStdString());

    Window win;
    MainWindow& w = win.w;
    QVERIFY(win.open(dir.path()));
    QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
    QTreeWidget* tree = w.layerTree();
    QCOMPARE(tree->topLevelItemCount(), 2);

    // Layer 0 (32 channels): the total, then 16 groups of 2 channels, each expandable.
    QTreeWidgetItem* l0 = tree->topLevelItem(0);
    QVERIFY2(l0->text(0).contains("(32 channels)"), qPrintable(l0->text(0)));
    QCOMPARE(l0->childCount(), 1 + 16);
    QVERIFY(l0->child(0)->text(0).startsWith("layer total"));
    QCOMPARE(l0->child(1)->text(0), QStringLiteral("channels 0-1"));
    QCOMPARE(l0->child(16)->text(0), QStringLiteral("channels 30-31"));
    QCOMPARE(l0->child(2)->childCount(), 2);
    QCOMPARE(l0->child(2)->child(1)->text(0), QStringLiteral("channel 3"));
    QVERIFY(!l0->child(2)->isExpanded());
    // Layer 1 (linear attention, 2 heads): total and the heads, no groups.
    QTreeWidgetItem* l1 = tree->topLevelItem(1);
    QCOMPARE(l1->childCount(), 3);
    QCOMPARE(l1->child(2)->text(0), QStringLiteral("head 1"));

    // The layer total of layer 0: its curve is the sum of the 32 channels' curves (d_v = 1),
    // its TSS 32 x (k - 1) = 96.
    tree->setCurrentItem(l0->child(0));
    QVERIFY(w.isLayerTotalSelected());
    QTRY_VERIFY_WITH_TIMEOUT(
        w.document()->curveData(0) && !w.curveView()->series().isEmpty() && w.curveView()->series().first().isTotal(),
        kTimeout);
    const ess::CurveData* c = w.document()->curveData(0);
    QCOMPARE(int(c->tolerance.size()), 32);
    EssSeries total = w.curveView()->series().first();
    QCOMPARE(total.name, QStringLiteral("layer total"));
    QCOMPARE(total.splits.size(), int(c->splits.size()));
    for (int i = 0; i < total.splits.size(); ++i) {
      double tol = 0, ent = 0;
      for (int ch = 0; ch < 32; ++ch) tol += c->tolerance[ch][i], ent += c->entropy[ch][i];
      QCOMPARE(total.tolerance[i], tol);
      QVERIFY(near(total.entropy[i], ent));
      QCOMPARE(total.tss[i], 96.0);
      QVERIFY(near(total.utilization[i], tol / 96.0));
    }
    QVERIFY2(w.curveView()->title().contains("utilization"), qPrintable(w.curveView()->title()));
    // The tree label shows the means.
    QTRY_VERIFY_WITH_TIMEOUT(l0->child(0)->text(0).contains("TSS 96"), kTimeout);
    // The heatmap shows the mean |T| over all 32 channels.
    QTRY_VERIFY_WITH_TIMEOUT(w.heatmapView()->title().contains("mean |T|"), kTimeout);
    const ess::OperatorData* op = w.document()->operatorData(0);
    QVERIFY(op);
    double mean = 0;
    for (int ch = 0; ch < 32; ++ch) mean += std::abs(op->at(ch, 9, 7));
    QVERIFY(near(w.heatmapView()->valueAt(9, 7), mean / 32));
    // The split still moves every view; the spectrum is that of the first channel.
    w.splitSlider()->setValue(5);
    QTRY_VERIFY_WITH_TIMEOUT(w.curveView()->cursorPosition() == 5.0 && w.spectrumView()->dataSplit() == 5 &&
                                 w.heatmapView()->hankelOutline().top() == 4.5,
                             kTimeout);
    QVERIFY(w.spectrumView()->title().contains("first of"));
    QVERIFY(w.curveView()->title().contains("s = 5"));

    // A channel group: channels 2-3 summed.
    tree->setCurrentItem(l0->child(2));
    QVERIFY(w.isAggregateSelected() && !w.isLayerTotalSelected());
    QCOMPARE(w.selectionFirst(), 2);
    QCOMPARE(w.selectionLast(), 3);
    QTRY_VERIFY_WITH_TIMEOUT(
        !w.curveView()->series().isEmpty() && w.curveView()->series().first().name == QStringLiteral("channels 2-3"),
        kTimeout);
    const EssSeries group = w.curveView()->series().first();
    for (int i = 0; i < group.splits.size(); ++i) {
      QCOMPARE(group.tolerance[i], c->tolerance[2][i] + c->tolerance[3][i]);
      QCOMPARE(group.tss[i], 6.0);
    }
    QTRY_VERIFY_WITH_TIMEOUT(w.heatmapView()->title().contains("channels 2-3"), kTimeout);
    QVERIFY(near(w.heatmapView()->valueAt(9, 7), (std::abs(op->at(2, 9, 7)) + std::abs(op->at(3, 9, 7))) / 2));

    // A single channel inside the group works as a head does today.
    tree->setCurrentItem(l0->child(2)->child(1));
    QVERIFY(!w.isAggregateSelected());
    QCOMPARE(w.currentHead(), 3);
    QTRY_VERIFY_WITH_TIMEOUT(
        !w.curveView()->series().isEmpty() && w.curveView()->series().first().name == QStringLiteral("channel 3"),
        kTimeout);
    QCOMPARE(w.curveView()->series().first().tolerance[0], c->tolerance[3][0]);
    QTRY_COMPARE_WITH_TIMEOUT(w.heatmapView()->valueAt(9, 7), op->at(3, 9, 7), kTimeout);

    // Linear attention's total multiplies each head by d_v = 16 (d_model 32, 2 heads): TSS
    // per head d_k * d_v = 256, total 512.
    tree->setCurrentItem(l1->child(0));
    QTRY_VERIFY_WITH_TIMEOUT(w.document()->curveData(1) && !w.curveView()->series().isEmpty() &&
                                 w.curveView()->series().first().isTotal() && w.currentLayer() == 1,
                             kTimeout);
    const ess::CurveData* la = w.document()->curveData(1);
    total = w.curveView()->series().first();
    for (int i = 0; i < total.splits.size(); ++i) {
      QCOMPARE(total.tolerance[i], 16.0 * (la->tolerance[0][i] + la->tolerance[1][i]));
      QCOMPARE(total.tss[i], 512.0);
    }

    // The layer comparison: bars for both layers; clicking layer 0's group column opens the group.
    QSignalSpy ready(w.document(), &Document::layerSummaryReady);
    w.tabs()->setCurrentIndex(1);
    QVERIFY(ready.count() > 0 || ready.wait(kTimeout));
    LayerComparisonView* view = w.layerView();
    QTRY_COMPARE_WITH_TIMEOUT(view->totals().size(), 2, kTimeout);
    QCOMPARE(view->values()[0].size(), 16);
    QCOMPARE(view->values()[1].size(), 2);
    QCOMPARE(view->totals()[0].tss, 96.0);
    QCOMPARE(view->totals()[1].tss, 512.0);
    view->replot();
    QTest::mouseClick(view, Qt::LeftButton, {}, view->cellCenter(0, 3).toPoint());
    QCOMPARE(w.tabs()->currentIndex(), 0);
    QVERIFY(w.isAggregateSelected());
    QCOMPARE(w.selectionFirst(), 6);
    QCOMPARE(w.selectionLast(), 7);
    w.tabs()->setCurrentIndex(1);
    view->replot();
    QTest::mouseClick(view, Qt::LeftButton, {}, view->barCenter(1).toPoint());
    QCOMPARE(w.tabs()->currentIndex(), 0);
    QVERIFY(w.isLayerTotalSelected());
    QCOMPARE(w.currentLayer(), 1);
    QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
  }
};

QTEST_MAIN(TestLayerAggregates)
#include "test_layer_aggregates.moc"
