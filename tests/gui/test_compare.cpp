// Compare A/B: Pin as A, open B. The ESS curve, the Position view and the Layers tab overlay A on
// B with both checkpoints' names (and a `checkpoint` column in their CSV), the heatmap's
// T_B - T_A equals the difference of the two operators computed here from the files, and
// checkpoints of different layouts are refused naming both.
#include <QtTest>

#include <qcustomplot.h>
#include <QAction>
#include <QCheckBox>
#include <QMenu>
#include <QMenuBar>
#include <QTemporaryDir>
#include <algorithm>
#include <cmath>

#include "comparison.h"
#include "controls_panel.h"
#include "ess/aggregate.h"
#include "ess/session.h"
#include "ess_curve_view.h"
#include "gui_test_helpers.h"
#include "heatmap_view.h"
#include "layer_comparison_view.h"
#include "position_ess_view.h"
#include "training_tab.h"

namespace {

constexpr int kTimeout = 300000;
const QString kData = QStringLiteral(ESS_TEST_DATA_DIR);
const QString kA = kData + "/gla_d4_L64.safetensors";
const QString kB = kData + "/lti_ssm_n4_L64.safetensors";

QStringList graphNames(QCustomPlot* plot) {
  QStringList names;
  for (int i = 0; i < plot->graphCount(); ++i) names << plot->graph(i)->name();
  return names;
}

/// The action `text` of the window's Compare menu (null when there is none).
QAction* compareAction(MainWindow& w, const QString& text) {
  for (QAction* menu : w.menuBar()->actions())
    if (menu->text() == "&Compare" && menu->menu())
      for (QAction* a : menu->menu()->actions())
        if (a->text() == text) return a;
  return nullptr;
}

}  // namespace

class TestCompare : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void overlaysAndDifference() {
    TestWindow t(kTimeout);
    QVERIFY(t.w.shortcutsText().contains("Ctrl+Shift+P\tPin as A"));
    QVERIFY(t.open(kA));
    QAction* pin = compareAction(t.w, "&Pin as A");
    QVERIFY(pin);
    pin->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(t.w.comparison()->isActive(), kTimeout);
    QVERIFY(t.open(kB));
    QTRY_VERIFY_WITH_TIMEOUT(t.w.comparison()->isActive(), kTimeout);
    QVERIFY2(t.errors.isEmpty(), qPrintable(t.errors.join('\n')));
    QCOMPARE(t.w.comparison()->nameA(), QStringLiteral("gla_d4_L64.safetensors"));
    QCOMPARE(t.w.comparison()->nameB(), QStringLiteral("lti_ssm_n4_L64.safetensors"));

    auto a = ess::Session::open(kA.toStdString());
    auto b = ess::Session::open(kB.toStdString());
    const ess::EssCurve ca = a->curve(0, ess::EssOptions()), cb = b->curve(0, ess::EssOptions());

    // The ESS curve: B then A, each named by its checkpoint, A's values A's own.
    EssCurveView* curve = t.w.curveView();
    QTRY_COMPARE_WITH_TIMEOUT(int(curve->series().size()), 2, kTimeout);
    QCOMPARE(curve->series()[0].name, QStringLiteral("lti_ssm_n4_L64.safetensors"));
    QCOMPARE(curve->series()[1].name, QStringLiteral("gla_d4_L64.safetensors"));
    const QStringList names = graphNames(curve);
    QVERIFY2(names.contains("lti_ssm_n4_L64.safetensors: tolerance-ESS"), qPrintable(names.join('|')));
    QVERIFY2(names.contains("gla_d4_L64.safetensors: tolerance-ESS"), qPrintable(names.join('|')));
    QCOMPARE(int(curve->series()[1].tolerance.size()), int(ca.splits.size()));
    for (size_t i = 0; i < ca.splits.size(); ++i) {
      QCOMPARE(curve->series()[1].tolerance[int(i)], ca.tolerance[0][i]);
      QCOMPARE(curve->series()[0].tolerance[int(i)], cb.tolerance[0][i]);
    }
    QVERIFY(ca.tolerance[0] != cb.tolerance[0]);  // two different curves are overlaid
    const QStringList csv = curve->toCsv().split('\n');
    QCOMPARE(csv[0], QStringLiteral("checkpoint,step,series,split,tolerance_ess,entropy_ess,tss"));
    QVERIFY(csv[1].startsWith("lti_ssm_n4_L64.safetensors,,"));  // no step: not a checkpoint of a run
    QVERIFY(curve->toCsv().contains("\ngla_d4_L64.safetensors,,gla_d4_L64.safetensors,1,"));

    // T_B - T_A, computed here from the two files.
    HeatmapView* heatmap = t.w.heatmapView();
    QVERIFY(heatmap->title().startsWith("operator T"));
    QAction* difference = compareAction(t.w, "Show T_B - T_A");
    QVERIFY(difference && difference->isCheckable());
    difference->setChecked(true);
    QTRY_VERIFY_WITH_TIMEOUT(heatmap->title().startsWith("T_B - T_A"), kTimeout);
    const ess::OperatorData ta = a->operatorOf(0), tb = b->operatorOf(0);
    double largest = 0;
    for (int r = 0; r < 64; ++r)
      for (int c = 0; c < 64; ++c) {
        QCOMPARE(heatmap->valueAt(r, c), tb.at(0, r, c) - ta.at(0, r, c));
        largest = std::max(largest, std::abs(tb.at(0, r, c) - ta.at(0, r, c)));
      }
    QVERIFY(largest > 0.01);
    QVERIFY(heatmap->effectiveColorMap() == colormaps::Map::Diverging);
    QVERIFY(heatmap->colorRange().mode == HeatmapView::ColorRange::Mode::Symmetric);
    difference->setChecked(false);
    QTRY_VERIFY_WITH_TIMEOUT(heatmap->title().startsWith("operator T"), kTimeout);
    QCOMPARE(heatmap->valueAt(5, 2), tb.at(0, 5, 2));
    QVERIFY(heatmap->colorRange().mode == HeatmapView::ColorRange::Mode::Auto);

    // Position: A's curve over B's in the row, both names in the legend, a checkpoint column.
    t.w.showTab(MainWindow::Tab::Position);
    PositionEssView* position = t.w.positionView();
    QTRY_VERIFY_WITH_TIMEOUT(position->rowCount() == 1 && !position->rows()[0].compare.splits.isEmpty(), kTimeout);
    QCOMPARE(position->rows()[0].compare.tolerance[0], ca.tolerance[0][0]);
    QCOMPARE(position->rows()[0].series.tolerance[0], cb.tolerance[0][0]);
    const QStringList positionNames = graphNames(position);
    QVERIFY2(positionNames.contains("gla_d4_L64.safetensors: tolerance-ESS"), qPrintable(positionNames.join('|')));
    QVERIFY2(positionNames.contains("lti_ssm_n4_L64.safetensors: entropy-ESS"), qPrintable(positionNames.join('|')));
    QVERIFY(
        position->toCsv().startsWith("checkpoint,step,layer,split,token,tolerance_ess,entropy_ess\n"
                                     "lti_ssm_n4_L64.safetensors,,0,1,"));
    QVERIFY(position->toCsv().contains("\ngla_d4_L64.safetensors,,0,1,"));

    // Layers: A's layer totals beside B's.
    t.w.showLayerComparison();
    LayerComparisonView* layers = t.w.layerView();
    QTRY_VERIFY_WITH_TIMEOUT(layers->compareTotals().size() == 1 &&
                                 std::isfinite(layers->compareTotals()[0].tolerance) && layers->totals().size() == 1 &&
                                 std::isfinite(layers->totals()[0].tolerance),
                             kTimeout);
    const ess::LayerSummary& layer = a->info().layers[0];
    QCOMPARE(layers->compareTotals()[0].tolerance, ess::layerTotal(ca, layer).toleranceSummary.mean);
    QCOMPARE(layers->totals()[0].tolerance, ess::layerTotal(cb, b->info().layers[0]).toleranceSummary.mean);
    QCOMPARE(layers->compareBars()[0]->name(), QStringLiteral("gla_d4_L64.safetensors: tolerance-ESS"));
    QVERIFY(layers->compareBars()[0]->visible());
    QCOMPARE(layers->bars()[0]->name(), QStringLiteral("lti_ssm_n4_L64.safetensors: tolerance-ESS"));
    QVERIFY(layers->toCsv().contains("\ngla_d4_L64.safetensors,,0,total,"));

    // Unpin: B alone again everywhere.
    compareAction(t.w, "&Unpin")->trigger();
    QVERIFY(!t.w.comparison()->isPinned());
    QTRY_VERIFY_WITH_TIMEOUT(layers->compareTotals().isEmpty(), kTimeout);
    QVERIFY(!layers->compareBars()[0]->visible());
    QTRY_COMPARE_WITH_TIMEOUT(int(curve->series().size()), 1, kTimeout);
    QTRY_VERIFY_WITH_TIMEOUT(position->rowCount() == 1 && position->rows()[0].compare.splits.isEmpty(), kTimeout);
    QVERIFY(curve->toCsv().startsWith("series,"));
    QVERIFY2(t.errors.isEmpty(), qPrintable(t.errors.join('\n')));
  }

  void stepColumnFromTheRun() {
    // A run list gives the steps of two operator files: compare exports carry them.
    QTemporaryDir dir;
    const QString a = dir.filePath("a.safetensors"), b = dir.filePath("b.safetensors");
    QVERIFY(QFile::copy(kA, a) && QFile::copy(kB, b));
    QFile list(dir.filePath("run.txt"));
    QVERIFY(list.open(QIODevice::WriteOnly));
    list.write((a + " 100\n" + b + " 250\n").toUtf8());
    list.close();
    TestWindow t(kTimeout);
    t.w.openRun(list.fileName());
    t.w.trainingTab()->cancel();
    QVERIFY(t.open(a));
    t.w.comparison()->pin();
    QTRY_VERIFY_WITH_TIMEOUT(t.w.comparison()->isActive(), kTimeout);
    QVERIFY(t.open(b));
    QTRY_VERIFY_WITH_TIMEOUT(t.w.comparison()->isActive(), kTimeout);
    QCOMPARE(t.w.comparison()->stepA(), 100);
    QCOMPARE(t.w.comparison()->stepB(), 250);
    t.w.showTab(MainWindow::Tab::Head);
    EssCurveView* curve = t.w.curveView();
    QTRY_COMPARE_WITH_TIMEOUT(int(curve->series().size()), 2, kTimeout);
    const QString csv = curve->toCsv();
    QVERIFY2(csv.startsWith(
                 "checkpoint,step,series,split,tolerance_ess,entropy_ess,tss\nb.safetensors,250,b.safetensors,1,"),
             qPrintable(csv.left(200)));
    QVERIFY(csv.contains("\na.safetensors,100,a.safetensors,1,"));
    t.w.showTab(MainWindow::Tab::Position);
    QTRY_VERIFY_WITH_TIMEOUT(
        t.w.positionView()->rowCount() == 1 && !t.w.positionView()->rows()[0].compare.splits.isEmpty(), kTimeout);
    QVERIFY(t.w.positionView()->toCsv().contains("\nb.safetensors,250,0,1,"));
    QVERIFY(t.w.positionView()->toCsv().contains("\na.safetensors,100,0,1,"));
    t.w.showLayerComparison();
    QTRY_VERIFY_WITH_TIMEOUT(
        t.w.layerView()->compareTotals().size() == 1 && std::isfinite(t.w.layerView()->compareTotals()[0].tolerance),
        kTimeout);
    QVERIFY(t.w.layerView()->toCsv().contains("\nb.safetensors,250,0,total,"));
    QVERIFY(t.w.layerView()->toCsv().contains("\na.safetensors,100,0,total,"));
    // Outside the run, a step-<N> folder name gives the step; other names none.
    QCOMPARE(t.w.comparison()->stepOf(dir.filePath("step-7")), 7);
    QCOMPARE(t.w.comparison()->stepOf(kA), -1);
    QVERIFY2(t.errors.isEmpty(), qPrintable(t.errors.join('\n')));
  }

  void viewsThatShowBOnlySaySo() {
    // Two 2-head checkpoints: all heads, the layer total's T_B - T_A and the per-head grid are
    // B's only, and each view says so.
    QTemporaryDir dir;
    const QString a = dir.filePath("a.safetensors"), b = dir.filePath("b.safetensors");
    QVERIFY(QFile::copy(kData + "/softmax_attention_h2_L64.safetensors", a));
    QVERIFY(QFile::copy(kData + "/softmax_attention_h2_L64.safetensors", b));
    TestWindow t(kTimeout);
    QVERIFY(t.open(a));
    t.w.comparison()->pin();
    QVERIFY(t.open(b));
    QTRY_VERIFY_WITH_TIMEOUT(t.w.comparison()->isActive(), kTimeout);
    t.w.controls()->allHeadsBox()->setChecked(true);
    QTRY_VERIFY_WITH_TIMEOUT(t.w.curveView()->series().size() == 2, kTimeout);
    QVERIFY2(t.w.curveView()->title().contains("B vs A (compare: this head only)"),
             qPrintable(t.w.curveView()->title()));
    t.w.comparison()->setShowDifference(true);
    t.w.selectLayerTotal(0);
    QTRY_VERIFY_WITH_TIMEOUT(t.w.heatmapView()->title().startsWith("mean |T|"), kTimeout);
    QVERIFY2(t.w.heatmapView()->title().contains("Compare: T_B - T_A needs one head of a dense layer; this is B "
                                                 "(b.safetensors) only"),
             qPrintable(t.w.heatmapView()->title()));
    t.w.selectHead(0, 1);
    QTRY_VERIFY_WITH_TIMEOUT(t.w.heatmapView()->title().startsWith("T_B - T_A"), kTimeout);
    QVERIFY(!t.w.heatmapView()->title().contains("needs one head"));
    QCOMPARE(t.w.heatmapView()->valueAt(10, 3), 0.0);  // the same operator twice
    t.w.showLayerComparison();
    QTRY_VERIFY_WITH_TIMEOUT(t.w.layerView()->title().contains("per head: B only"), kTimeout);
    QVERIFY2(t.errors.isEmpty(), qPrintable(t.errors.join('\n')));
  }

  void refusesDifferentLayouts() {
    TestWindow t(kTimeout);
    QVERIFY(t.open(kA));
    t.w.comparison()->pin();
    QTRY_VERIFY_WITH_TIMEOUT(t.w.comparison()->isActive(), kTimeout);
    // Two heads in B's layer 0.
    QVERIFY(t.open(kData + "/softmax_attention_h2_L64.safetensors"));
    QTRY_VERIFY_WITH_TIMEOUT(!t.errors.isEmpty(), kTimeout);
    QCOMPARE(t.errors.last(),
             QStringLiteral("Cannot compare A (gla_d4_L64.safetensors) with B "
                            "(softmax_attention_h2_L64.safetensors): layer 0 has 1 head(s) in A, 2 in B"));
    QVERIFY(!t.w.comparison()->isActive());
    QVERIFY(t.w.comparison()->isPinned());
    QTRY_VERIFY_WITH_TIMEOUT(!t.w.curveView()->series().isEmpty(), kTimeout);
    QCOMPARE(int(t.w.curveView()->series().size()), 1);
    // Another length: L = 16 against A's 64.
    QVERIFY(t.open(kData + "/identity_L16.safetensors"));
    QTRY_COMPARE_WITH_TIMEOUT(int(t.errors.size()), 2, kTimeout);
    QCOMPARE(t.errors.last(), QStringLiteral("Cannot compare A (gla_d4_L64.safetensors) with B "
                                             "(identity_L16.safetensors): the input gives L = 64 in A, L = 16 in B"));
    QCOMPARE(t.w.comparison()->refusal(), t.errors.last());
    // The same layout again compares.
    QVERIFY(t.open(kB));
    QTRY_VERIFY_WITH_TIMEOUT(t.w.comparison()->isActive(), kTimeout);
    QTRY_COMPARE_WITH_TIMEOUT(int(t.w.curveView()->series().size()), 2, kTimeout);
    QCOMPARE(int(t.errors.size()), 2);
  }
};

QTEST_MAIN(TestCompare)
#include "test_compare.moc"
