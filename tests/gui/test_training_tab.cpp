// File > Open Run and the Training tab: each layer's mean total ESS against the step equals the
// core's layerTotal on that checkpoint, the run's logged metrics are drawn below, clicking a
// step opens that checkpoint, and bad runs are one error (the tab never appears).
#include <QtTest>

#include <qcustomplot.h>
#include <QFile>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <filesystem>

#include "ess/aggregate.h"
#include "ess/session.h"
#include "gui_test_helpers.h"
#include "training_figure_view.h"
#include "training_tab.h"

namespace {

constexpr int kTimeout = 300000;
const QString kData = QStringLiteral(ESS_TEST_DATA_DIR);

void writeText(const QString& path, const QByteArray& text) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
  f.write(text);
}

double meanTotal(const std::string& path, int layer) {
  auto s = ess::Session::open(path);
  return ess::layerTotal(s->curve(layer, ess::EssOptions()), s->info().layers[layer]).toleranceSummary.mean;
}

}  // namespace

class TestTrainingTab : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void listRunMatchesLayerTotals() {
    QTemporaryDir dir;
    const QString list = dir.filePath("run.txt");
    writeText(list, (kData + "/softmax_attention_h2_L64.safetensors 30\n" + kData + "/gla_d4_L64.safetensors 10\n" +
                     kData + "/lti_ssm_n4_L64.safetensors 20\n")
                        .toUtf8());
    TestWindow t(kTimeout);
    QCOMPARE(t.w.tabs()->count(), 3);
    QVERIFY(!t.w.trainingTab());
    t.w.openRun(list);
    QVERIFY2(t.errors.isEmpty(), qPrintable(t.errors.join('\n')));
    TrainingTab* tab = t.w.trainingTab();
    QVERIFY(tab);
    QCOMPARE(t.w.tabs()->count(), 4);
    QCOMPARE(t.w.tabs()->currentWidget(), tab);
    QSignalSpy finished(tab, &TrainingTab::finished);
    if (tab->isBusy()) QVERIFY(finished.wait(kTimeout));
    const auto series = tab->series(0, TrainingTab::Measure::Tolerance);
    QCOMPARE(series.size(), size_t(3));
    QCOMPARE(series[0].first, 10.0);
    QCOMPARE(series[0].second, meanTotal((kData + "/gla_d4_L64.safetensors").toStdString(), 0));
    QCOMPARE(series[1].first, 20.0);
    QCOMPARE(series[1].second, meanTotal((kData + "/lti_ssm_n4_L64.safetensors").toStdString(), 0));
    QCOMPARE(series[2].first, 30.0);
    QCOMPARE(series[2].second, meanTotal((kData + "/softmax_attention_h2_L64.safetensors").toStdString(), 0));
    QCOMPARE(tab->essPlot()->graph(0)->dataCount(), 3);
    QVERIFY2(tab->statusLabel()->text().contains("3 of 3 checkpoint(s) computed"),
             qPrintable(tab->statusLabel()->text()));
    QVERIFY(tab->statusLabel()->text().contains("logs no metrics"));

    // Clicking at step 20 opens that checkpoint in the Head tab.
    QSignalSpy requested(tab, &TrainingTab::checkpointRequested);
    QSignalSpy opened(t.w.document(), &Document::opened);
    QCPAxisRect* top = tab->essPlot()->axisRect(0);
    const int x = qRound(top->axis(QCPAxis::atBottom)->coordToPixel(20.0));
    QTest::mouseClick(tab->essPlot(), Qt::LeftButton, {}, QPoint(x, top->center().y()));
    QCOMPARE(requested.count(), 1);
    QCOMPARE(requested[0][0].toString(), kData + "/lti_ssm_n4_L64.safetensors");
    QVERIFY(opened.count() > 0 || opened.wait(kTimeout));
    QCOMPARE(t.w.document()->path(), kData + "/lti_ssm_n4_L64.safetensors");
    QCOMPARE(t.w.tabs()->currentIndex(), 0);
  }

  void essLmRunDrawsLoggedMetrics() {
    QTemporaryDir dir;
    namespace fs = std::filesystem;
    const std::string root = dir.path().toStdString();
    for (const char* step : {"step-100", "step-200"})
      fs::create_directory_symlink(fs::path(ESS_DEMO_DIR) / "gla", fs::path(root) / step);
    writeText(
        dir.filePath("metrics.jsonl"),
        "{\"step\": 100, \"loss\": 2.5, \"accuracy\": 0.25}\n{\"step\": 200, \"loss\": 1.5, \"accuracy\": 0.75}\n");
    TestWindow t(kTimeout);
    t.w.openRun(dir.path());
    TrainingTab* tab = t.w.trainingTab();
    QVERIFY(tab);
    QSignalSpy finished(tab, &TrainingTab::finished);
    if (tab->isBusy()) QVERIFY(finished.wait(kTimeout));
    const auto accuracy = tab->loggedMetric("accuracy");
    QCOMPARE(accuracy.size(), size_t(2));
    QCOMPARE(accuracy[1], std::make_pair(200.0, 0.75));
    const int layers = static_cast<int>(ess::Session::open(root + "/step-100")->info().layers.size());
    // One graph per layer above, loss and accuracy below.
    QCOMPARE(tab->essPlot()->graphCount(), layers + 2);
    const auto s = tab->series(layers - 1, TrainingTab::Measure::Utilization);
    QCOMPARE(s.size(), size_t(2));
    QCOMPARE(s[0].second, s[1].second);  // the same checkpoint twice
    QVERIFY(s[0].second > 0 && s[0].second <= 1.0 + 1e-9);
    // The figure is `ess render --figure training`'s: accuracy on the right (0..1) axis, loss on
    // the left; File > Export lists it and preselects it while the Training tab is current.
    TrainingFigureView* view = tab->essPlot();
    QCPAxis* right = view->metricsRect()->axis(QCPAxis::atRight);
    QCPAxis* left = view->metricsRect()->axis(QCPAxis::atLeft);
    int onRight = 0;
    for (int i = 0; i < view->graphCount(); ++i)
      if (view->graph(i)->name() == "accuracy") {
        QCOMPARE(view->graph(i)->valueAxis(), right);
        QCOMPARE(view->graph(i)->data()->at(1)->value, 0.75);
        ++onRight;
      } else if (view->graph(i)->name() == "loss") {
        QCOMPARE(view->graph(i)->valueAxis(), left);
      }
    QCOMPARE(onRight, 1);
    QVERIFY(view->toCsv().contains("metrics,accuracy,200,0.75\n"));
    QCOMPARE(t.w.views().last(), static_cast<PlotView*>(view));
    QCOMPARE(t.w.exportViewNames().last(), QStringLiteral("ESS over training"));
    QCOMPARE(t.w.exportViewNames().size(), t.w.views().size());
    QCOMPARE(t.w.exportPreselection(), static_cast<PlotView*>(view));
    t.w.tabs()->setCurrentIndex(0);
    QVERIFY(t.w.exportPreselection() != static_cast<PlotView*>(view));
  }

  void badRunsAreOneError() {
    QTemporaryDir dir;
    TestWindow t(kTimeout);
    t.w.openRun(dir.path());
    QCOMPARE(t.errors.size(), 1);
    QVERIFY2(t.errors[0].contains(dir.path() + ": holds no checkpoints"), qPrintable(t.errors[0]));
    QCOMPARE(t.w.tabs()->count(), 3);
    // A trainer_state.json that does not parse: the run opens without metrics and says why.
    QVERIFY(QDir(dir.path()).mkpath("checkpoint-5"));
    QFile::link(kData + "/gla_d4_L64.safetensors", dir.filePath("checkpoint-5/model.safetensors"));
    writeText(dir.filePath("checkpoint-5/trainer_state.json"), "{\"log_history\": [");
    t.w.openRun(dir.path());
    QCOMPARE(t.errors.size(), 1);
    QVERIFY(t.w.trainingTab());
    QVERIFY2(t.w.trainingTab()->statusLabel()->text().contains("trainer_state.json: not valid JSON"),
             qPrintable(t.w.trainingTab()->statusLabel()->text()));
    QSignalSpy finished(t.w.trainingTab(), &TrainingTab::finished);
    if (t.w.trainingTab()->isBusy()) QVERIFY(finished.wait(kTimeout));
  }
};

QTEST_MAIN(TestTrainingTab)
#include "test_training_tab.moc"
