// Scrubbing through training: once a run is open, the Head tab's checkpoint slider opens each
// checkpoint at the same layer, head and split, the heatmap, curve and spectrum following (a
// quick scrub ends at the last position asked for); a click in the Training tab does the same;
// on a trained ess-lm run both keep the input and a layer total too, the views equal a Session
// opened here at that input; dropping a run folder or a run list opens it as a run, and a
// dropped checkpoint (or a text file on a model: its input) is taken as before.
#include <QtTest>

#include <qcustomplot.h>
#include <QApplication>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMimeData>
#include <QSlider>
#include <QTabWidget>
#include <QTemporaryDir>
#include <algorithm>
#include <cmath>
#include <cstring>

#include "ess/aggregate.h"
#include "ess/session.h"
#include "ess/train.h"
#include "ess_curve_view.h"
#include "gui_test_helpers.h"
#include "heatmap_view.h"
#include "selection.h"
#include "spectrum_view.h"
#include "split_point.h"
#include "training_figure_view.h"
#include "training_tab.h"

namespace {

constexpr int kTimeout = 300000;
const QString kData = QStringLiteral(ESS_TEST_DATA_DIR);

/// The `operator` tensor (F64 [H, L, L]) of a safetensors file, row-major.
QVector<double> readOperator(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  const QByteArray bytes = f.readAll();
  quint64 n = 0;
  std::memcpy(&n, bytes.constData(), 8);
  const QJsonObject t = QJsonDocument::fromJson(bytes.mid(8, int(n))).object().value("operator").toObject();
  const QJsonArray offsets = t.value("data_offsets").toArray();
  const qint64 begin = 8 + qint64(n) + offsets[0].toInteger(), end = 8 + qint64(n) + offsets[1].toInteger();
  QVector<double> v(int((end - begin) / 8));
  std::memcpy(v.data(), bytes.constData() + begin, size_t(end - begin));
  return v;
}

/// Writes an operator file of `heads` x L x L float64 values.
void writeOperator(const QString& path, const QVector<double>& values, int heads, int length) {
  const QJsonObject t{{"dtype", "F64"},
                      {"shape", QJsonArray{heads, length, length}},
                      {"data_offsets", QJsonArray{0, qint64(values.size()) * 8}}};
  QByteArray header = QJsonDocument(QJsonObject{{"operator", t}}).toJson(QJsonDocument::Compact);
  while (header.size() % 8) header += ' ';
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
  const quint64 n = quint64(header.size());
  f.write(reinterpret_cast<const char*>(&n), 8);
  f.write(header);
  f.write(reinterpret_cast<const char*>(values.constData()), qint64(values.size()) * 8);
}

void writeText(const QString& path, const QByteArray& text) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
  f.write(text);
}

/// Equal within 1e-9 relative (the window's forward pass ran on other threads than this one).
bool near(const QVector<double>& shown, const std::vector<double>& expected) {
  if (shown.size() != qsizetype(expected.size())) return false;
  for (size_t i = 0; i < expected.size(); ++i)
    if (std::abs(shown[qsizetype(i)] - expected[i]) > 1e-9 * std::max(1.0, std::abs(expected[i]))) return false;
  return true;
}

void drop(MainWindow& w, const QString& path) {
  auto* mime = new QMimeData;
  mime->setUrls({QUrl::fromLocalFile(path)});
  QDragEnterEvent enter(QPoint(100, 100), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(&w, &enter);
  QVERIFY(enter.isAccepted());
  QDropEvent event(QPointF(100, 100), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(&w, &event);
  delete mime;
}

}  // namespace

class TestCheckpointSlider : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;

 private Q_SLOTS:
  void sliderScrubsAtTheSameHeadAndSplit() {
    // Three two-head checkpoints: softmax attention, its heads swapped, and GLA in both heads.
    const int L = 64, block = L * L;
    const QVector<double> softmax = readOperator(kData + "/softmax_attention_h2_L64.safetensors");
    const QVector<double> gla = readOperator(kData + "/gla_d4_L64.safetensors");
    QCOMPARE(int(softmax.size()), 2 * block);
    const QString p1 = dir_.filePath("a.safetensors"), p2 = dir_.filePath("b.safetensors"),
                  p3 = dir_.filePath("c.safetensors");
    writeOperator(p1, softmax, 2, L);
    writeOperator(p2, softmax.mid(block) + softmax.mid(0, block), 2, L);
    writeOperator(p3, gla + gla, 2, L);
    const QString list = dir_.filePath("run.txt");
    writeText(list, (p1 + " 10\n" + p2 + " 20\n" + p3 + " 30\n").toUtf8());

    TestWindow t(kTimeout);
    QVERIFY(t.open(p1));
    t.w.selectHead(0, 1);
    QTRY_VERIFY_WITH_TIMEOUT(t.w.heatmapView()->length() == L, kTimeout);
    t.w.splitPoint()->setSplit(20);
    QCOMPARE(t.w.splitPoint()->split(), 20);
    QSlider* slider = t.w.checkpointSlider();
    QVERIFY(!slider->isVisibleTo(&t.w));
    t.w.openRun(list);
    QVERIFY2(t.errors.isEmpty(), qPrintable(t.errors.join('\n')));
    t.w.trainingTab()->cancel();
    t.w.showTab(MainWindow::Tab::Head);
    QVERIFY(slider->isVisibleTo(&t.w));
    QCOMPARE(slider->maximum(), 2);
    QCOMPARE(slider->value(), 0);  // the open checkpoint

    // To step 20: b's head 1 (softmax's head 0) at split 20.
    QSignalSpy opened(t.w.document(), &Document::opened);
    slider->setValue(1);
    QVERIFY(opened.count() > 0 || opened.wait(kTimeout));
    QCOMPARE(t.w.document()->path(), p2);
    QCOMPARE(t.w.currentLayer(), 0);
    QCOMPARE(t.w.currentHead(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(t.w.splitPoint()->split(), 20, kTimeout);
    QTRY_VERIFY_WITH_TIMEOUT(t.w.heatmapView()->length() == L, kTimeout);
    for (int r = 0; r < L; r += 7)
      for (int c = 0; c <= r; c += 5) QCOMPARE(t.w.heatmapView()->valueAt(r, c), softmax[r * L + c]);
    auto b = ess::Session::open(p2.toStdString());
    const ess::EssCurve cb = b->curve(0, ess::EssOptions());
    QTRY_VERIFY_WITH_TIMEOUT(
        !t.w.curveView()->series().isEmpty() &&
            t.w.curveView()->series()[0].tolerance == QVector<double>(cb.tolerance[1].begin(), cb.tolerance[1].end()),
        kTimeout);
    QTRY_COMPARE_WITH_TIMEOUT(t.w.spectrumView()->dataSplit(), 20, kTimeout);
    QStringList labels;
    for (QLabel* l : slider->parentWidget()->findChildren<QLabel*>()) labels << l->text();
    QVERIFY2(labels.join('|').contains("b.safetensors (step 20)"), qPrintable(labels.join('|')));

    // A quick scrub 2 -> 0 ends at step 10, the stale open dropped.
    slider->setValue(2);
    slider->setValue(0);
    QTRY_VERIFY_WITH_TIMEOUT(t.w.document()->path() == p1 && !t.w.document()->isBusy(), kTimeout);
    QTest::qWait(50);
    QCOMPARE(t.w.document()->path(), p1);
    QCOMPARE(t.w.currentHead(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(
        t.w.heatmapView()->length() == L && t.w.heatmapView()->valueAt(40, 3) == softmax[block + 40 * L + 3], kTimeout);
    QCOMPARE(t.w.splitPoint()->split(), 20);
    QVERIFY2(t.errors.isEmpty(), qPrintable(t.errors.join('\n')));
  }

  void trainedRunKeepsTheViewAndTheInput() {
    // A tiny ess-lm run (softmax attention + GLA, 2 heads): step-1/ and step-2/ differ.
    ess::TrainOptions o;
    o.mixers = {"softmax_attention", "gla"};
    o.dModel = 16;
    o.heads = 2;
    o.steps = 2;
    o.batch = 2;
    o.length = 32;
    o.pairs = 4;
    o.vocab = 32;
    o.evalSamples = 4;
    o.lr = 0.05;
    o.saveEvery = 1;
    const QString run = dir_.filePath("trained");
    ess::trainMqar(o, run.toStdString());
    const QString step1 = run + "/step-1", step2 = run + "/step-2";
    const QString input = QStringLiteral("mqar:seed=5,len=24,pairs=3,vocab=32");

    TestWindow t(kTimeout);
    QVERIFY(t.open(step2));
    QVERIFY(t.setInput(input));
    t.w.selectHead(1, 1);
    t.w.splitPoint()->setSplit(9);
    t.w.openRun(run);
    QVERIFY2(t.errors.isEmpty(), qPrintable(t.errors.join('\n')));
    TrainingTab* tab = t.w.trainingTab();
    QSignalSpy finished(tab, &TrainingTab::finished);
    if (tab->isBusy()) QVERIFY(finished.wait(kTimeout));
    QCOMPARE(t.w.checkpointSlider()->value(), 1);  // step-2 is open

    // A click at step 1 in the Training tab: step-1 at layer 1, head 1, split 9, the same input.
    QSignalSpy opened(t.w.document(), &Document::opened);
    QCPAxisRect* top = tab->essPlot()->axisRect(0);
    QTest::mouseClick(tab->essPlot(), Qt::LeftButton, {},
                      QPoint(qRound(top->axis(QCPAxis::atBottom)->coordToPixel(1.0)), top->center().y()));
    QVERIFY(opened.count() > 0 || opened.wait(kTimeout));
    QCOMPARE(t.w.document()->path(), step1);
    QCOMPARE(t.w.tabs()->currentIndex(), 0);
    QCOMPARE(t.w.document()->inputSpec(), input);
    QCOMPARE(t.w.currentLayer(), 1);
    QCOMPARE(t.w.currentHead(), 1);
    QVERIFY(!t.w.isAggregateSelected());
    QCOMPARE(t.w.splitPoint()->split(), 9);
    QCOMPARE(t.w.checkpointSlider()->value(), 0);
    auto s1 = ess::Session::open(step1.toStdString());
    s1->setInput(input.toStdString());
    const ess::OperatorData t1 = s1->operatorOf(1);
    QCOMPARE(t1.length, 24);
    QTRY_VERIFY_WITH_TIMEOUT(t.w.heatmapView()->length() == 24, kTimeout);
    for (int r = 0; r < 24; r += 3)
      for (int c = 0; c <= r; c += 2) QVERIFY(std::abs(t.w.heatmapView()->valueAt(r, c) - t1.at(1, r, c)) < 1e-12);
    const ess::EssCurve c1 = s1->curve(1, ess::EssOptions());
    QTRY_VERIFY_WITH_TIMEOUT(!t.w.curveView()->series().isEmpty() &&
                                 near(t.w.curveView()->series()[0].tolerance, c1.tolerance[1]) &&
                                 near(t.w.curveView()->series()[0].entropy, c1.entropy[1]),
                             kTimeout);
    QTRY_COMPARE_WITH_TIMEOUT(t.w.spectrumView()->dataSplit(), 9, kTimeout);

    // The layer total of layer 0, then the slider to step 2: still the total, at step 2's values.
    t.w.selectLayerTotal(0);
    t.w.checkpointSlider()->setValue(1);
    QTRY_VERIFY_WITH_TIMEOUT(t.w.document()->path() == step2 && t.w.isLayerTotalSelected(), kTimeout);
    QCOMPARE(t.w.currentLayer(), 0);
    QCOMPARE(t.w.document()->inputSpec(), input);
    QCOMPARE(t.w.splitPoint()->split(), 9);
    auto s2 = ess::Session::open(step2.toStdString());
    s2->setInput(input.toStdString());
    const ess::HeadTotal total2 = ess::layerTotal(s2->curve(0, ess::EssOptions()), s2->info().layers[0]);
    const ess::HeadTotal total1 = ess::layerTotal(s1->curve(0, ess::EssOptions()), s1->info().layers[0]);
    QVERIFY(total1.entropy != total2.entropy);  // two different checkpoints
    QTRY_VERIFY_WITH_TIMEOUT(!t.w.curveView()->series().isEmpty() &&
                                 near(t.w.curveView()->series()[0].entropy, total2.entropy) &&
                                 near(t.w.curveView()->series()[0].tolerance, total2.tolerance),
                             kTimeout);
    QVERIFY2(t.errors.isEmpty(), qPrintable(t.errors.join('\n')));
  }

  void droppingARunFolderOpensTheRun() {
    // A run folder: step-1/ and step-2/ checkpoints (copies of the demo).
    const QString run = dir_.filePath("run");
    for (const char* step : {"step-1", "step-2"}) {
      QVERIFY(QDir().mkpath(run + "/" + step));
      for (const char* file : {"config.json", "model.safetensors"})
        QVERIFY(QFile::copy(QStringLiteral(ESS_DEMO_DIR "/hybrid/") + file, run + "/" + step + "/" + file));
    }
    TestWindow t(kTimeout);
    QVERIFY(!t.w.trainingTab());
    drop(t.w, run);
    QVERIFY2(t.errors.isEmpty(), qPrintable(t.errors.join('\n')));
    QVERIFY(t.w.trainingTab());
    QCOMPARE(t.w.tabs()->currentWidget(), t.w.trainingTab());
    QCOMPARE(int(t.w.trainingTab()->run().checkpoints.size()), 2);
    QCOMPARE(t.w.checkpointSlider()->maximum(), 1);
    t.w.trainingTab()->cancel();
    // A checkpoint folder still opens as a checkpoint.
    QSignalSpy opened(t.w.document(), &Document::opened);
    drop(t.w, run + "/step-2");
    QVERIFY(opened.count() > 0 || opened.wait(kTimeout));
    QCOMPARE(t.w.document()->path(), run + "/step-2");
    QCOMPARE(t.w.checkpointSlider()->value(), 1);

    // A list of checkpoints dropped on the open model opens as a run; any other text file
    // becomes the model's input, as before.
    const QString list = dir_.filePath("dropped_run.txt");
    writeText(list, (run + "/step-2 7\n" + run + "/step-1 3\n").toUtf8());
    drop(t.w, list);
    QVERIFY2(t.errors.isEmpty(), qPrintable(t.errors.join('\n')));
    QCOMPARE(QString::fromStdString(t.w.trainingTab()->run().path), list);
    QCOMPARE(t.w.trainingTab()->run().checkpoints[0].step, 3);
    QCOMPARE(t.w.checkpointSlider()->value(), 1);  // step-2 is the run's second checkpoint
    t.w.trainingTab()->cancel();
    const QString text = dir_.filePath("essay.txt");
    writeText(text, "not a list of checkpoints\n");
    QSignalSpy input(t.w.document(), &Document::inputChanged);
    QSignalSpy refused(t.w.document(), &Document::errorOccurred);
    drop(t.w, text);
    QTRY_VERIFY_WITH_TIMEOUT(input.count() + refused.count() > 0, kTimeout);
    // Taken as the model's input, which this one (64 tokens, no tokenizer) refuses.
    QCOMPARE(t.errors.size(), 1);
    QVERIFY2(t.errors[0].startsWith("Input textfile:") && t.errors[0].contains("text input needs a tokenizer"),
             qPrintable(t.errors[0]));
    QCOMPARE(QString::fromStdString(t.w.trainingTab()->run().path), list);
  }
};

QTEST_MAIN(TestCheckpointSlider)
#include "test_checkpoint_slider.moc"
