// The GUI on bad files and faults while working (issue 12), on the offscreen platform: a FIFO
// is refused without freezing the window, a second file opened while the first loads wins,
// Cancel abandons an open and keeps the previous document, a checkpoint truncated, replaced or
// deleted on disk after opening shows the reload bar (Reload reopens at the same selection and
// split, Keep goes on with what was read) while the window keeps running, and error dialogs
// show one line with the rest in details.
#include <sys/stat.h>
#include <unistd.h>

#include <QApplication>
#include <QFile>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>
#include <memory>

#include "document.h"
#include "gui_test_helpers.h"
#include "main_window.h"
#include "reload_bar.h"
#include "split_point.h"

namespace {

const QString kOperatorFile = QStringLiteral(ESS_TEST_DATA_DIR "/softmax_attention_h2_L64.safetensors");
const QString kOtherOperatorFile = QStringLiteral(ESS_TEST_DATA_DIR "/gla_d4_L64.safetensors");
const QString kDemoDir = QStringLiteral(ESS_DEMO_DIR "/hybrid");
constexpr int kTimeout = 120000;

/// A copy of the demo checkpoint (config.json, model.safetensors) in `dir`.
bool copyDemo(const QTemporaryDir& dir) {
  for (const char* f : {"config.json", "model.safetensors"})
    if (!QFile::copy(kDemoDir + "/" + f, dir.filePath(f))) return false;
  return true;
}

/// Puts `from`'s bytes under `path` the way save-and-rename writers do (a new inode).
bool replaceByRename(const QString& from, const QString& path) {
  const QString tmp = path + ".new";
  return QFile::copy(from, tmp) && ::rename(tmp.toLocal8Bit().constData(), path.toLocal8Bit().constData()) == 0;
}

/// New ESS options (another tolerance): the document drops its curves and the window asks for
/// the shown one again.
void dropCurves(TestWindow& win) {
  ess::EssOptions o = win.w.document()->options();
  o.tolerance(o.tolerance_ * 2);
  win.w.document()->setOptions(o);
}

/// Opens the demo copy in `dir` and shows head 1 of layer 1 at split 10, everything computed.
bool openAtLayer1Head1Split10(TestWindow& win, const QTemporaryDir& dir) {
  if (!win.open(dir.path())) return false;
  win.w.selectHead(1, 1);
  win.w.splitPoint()->setLength(win.w.document()->sequenceLength());
  win.w.splitPoint()->setSplit(10);
  return QTest::qWaitFor([&] { return win.w.document()->curveData(1) && !win.w.document()->isBusy(); }, kTimeout) &&
         win.w.splitPoint()->split() == 10;
}

}  // namespace

class TestGuiRobust : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("ess-explorer-tests"));
    QCoreApplication::setApplicationName(QStringLiteral("test_gui_robust"));
    QSettings().clear();
  }

  void fifoIsRefusedAndTheWindowKeepsItsDocument() {
    TestWindow win(kTimeout);
    QVERIFY(win.open(kOperatorFile));
    QTemporaryDir dir;
    const QString fifo = dir.filePath("f.safetensors");
    QCOMPARE(::mkfifo(fifo.toLocal8Bit().constData(), 0600), 0);
    QSignalSpy failed(win.w.document(), &Document::openFailed);
    win.w.openPath(fifo);
    QVERIFY(failed.wait(kTimeout));
    QCOMPARE(win.errors.size(), 1);
    QVERIFY2(win.errors.first().contains(fifo + ": is a FIFO (named pipe)"), qPrintable(win.errors.first()));
    QCOMPARE(win.w.document()->path(), kOperatorFile);
    QTRY_VERIFY_WITH_TIMEOUT(!win.w.document()->isBusy(), kTimeout);  // no job left counted
    // The next file opens as usual.
    QVERIFY(win.open(kOtherOperatorFile));
    QCOMPARE(win.w.document()->path(), kOtherOperatorFile);
  }

  // Opening B while A is still loading: the window never waits for A, and A's result, when it
  // comes, is dropped.
  void secondFileOpenedWhileTheFirstLoads() {
    TestWindow win(kTimeout);
    QSignalSpy opened(win.w.document(), &Document::opened);
    win.w.openPath(kDemoDir);
    win.w.openPath(kOperatorFile);
    QVERIFY(opened.wait(kTimeout));
    QCOMPARE(opened.first().first().toString(), kOperatorFile);
    QCOMPARE(win.w.document()->path(), kOperatorFile);
    QTRY_VERIFY_WITH_TIMEOUT(!win.w.document()->isBusy(), kTimeout);  // no job left counted
    // The abandoned open ends later without replacing the document.
    QVERIFY(win.open(kOtherOperatorFile));
    for (const QList<QVariant>& signal : opened) QVERIFY(signal.first().toString() != kDemoDir);
    QCOMPARE(win.w.document()->path(), kOtherOperatorFile);
  }

  void cancelAbandonsAnOpen() {
    TestWindow win(kTimeout);
    QVERIFY(win.open(kOperatorFile));
    QSignalSpy cancelled(win.w.document(), &Document::cancelled);
    QSignalSpy opened(win.w.document(), &Document::opened);
    win.w.openPath(kDemoDir);
    QVERIFY(win.w.document()->isBusy());
    win.w.document()->cancel();
    QCOMPARE(cancelled.size(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(!win.w.document()->isBusy(), kTimeout);  // no job left counted
    QCOMPARE(win.w.document()->path(), kOperatorFile);
    // The next open is the one that lands; the cancelled one never does.
    QVERIFY(win.open(kOtherOperatorFile));
    for (const QList<QVariant>& signal : opened) QVERIFY(signal.first().toString() != kDemoDir);
    QCOMPARE(win.w.document()->path(), kOtherOperatorFile);
    QVERIFY(win.errors.isEmpty());
  }

  // A training job overwriting the weights after the checkpoint was opened: nothing is mapped,
  // so nothing can fault; the window offers to reload and keeps running.
  void checkpointTruncatedAfterOpeningKeepsWorking() {
    QTemporaryDir dir;
    for (const char* f : {"config.json", "model.safetensors"})
      QVERIFY(QFile::copy(kDemoDir + "/" + f, dir.filePath(f)));
    TestWindow win(kTimeout);
    QVERIFY(win.open(dir.path()));
    QVERIFY(QFile::resize(dir.filePath("model.safetensors"), 0));
    QVERIFY(win.setInput(QStringLiteral("mqar:seed=3,len=32,pairs=4")));
    QCOMPARE(win.w.document()->sequenceLength(), 32);
    QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
    QTRY_VERIFY_WITH_TIMEOUT(win.w.reloadBar()->isVisible(), kTimeout);
    // Opening it again now reports the damaged file and keeps the open document.
    QSignalSpy failed(win.w.document(), &Document::openFailed);
    win.w.openPath(dir.path());
    QVERIFY(failed.wait(kTimeout));
    QVERIFY2(win.errors.last().contains("model.safetensors: file is empty"), qPrintable(win.errors.last()));
    QCOMPARE(win.w.document()->path(), dir.path());
  }

  // The checkpoint deleted (or replaced) after opening: the window keeps working and offers to reload.
  void checkpointDeletedAfterOpeningKeepsWorking() {
    auto dir = std::make_unique<QTemporaryDir>();
    for (const char* f : {"config.json", "model.safetensors"})
      QVERIFY(QFile::copy(kDemoDir + "/" + f, dir->filePath(f)));
    TestWindow win(kTimeout);
    QVERIFY(win.open(dir->path()));
    const QString path = dir->path();
    dir.reset();  // removes the folder and both files
    QVERIFY(!QFile::exists(path));
    QVERIFY(win.setInput(QStringLiteral("random:seed=4,len=24")));
    QCOMPARE(win.w.document()->sequenceLength(), 24);
    QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
    QTRY_VERIFY_WITH_TIMEOUT(win.w.reloadBar()->isVisible(), kTimeout);
  }

  // Weights truncated while open (a training job starting to save), then written whole again:
  // the bar says so once, the window keeps working without error dialogs, and Reload opens the
  // file again at the same layer, head and split.
  void truncatedCheckpointIsReloadedAtTheSameSelection() {
    QTemporaryDir dir;
    QVERIFY(copyDemo(dir));
    TestWindow win(kTimeout);
    QVERIFY(openAtLayer1Head1Split10(win, dir));
    QSignalSpy changed(win.w.document(), &Document::sourceChanged);
    QVERIFY(QFile::resize(dir.filePath("model.safetensors"), 100));
    QTRY_VERIFY_WITH_TIMEOUT(win.w.reloadBar()->isVisible(), kTimeout);
    QCOMPARE(win.w.reloadBar()->text(), QStringLiteral("model.safetensors changed on disk. Reload?"));
    QCOMPARE(changed.first().at(0).toString(), dir.filePath("model.safetensors"));
    QVERIFY2(
        changed.first().at(1).toString().contains("the file changed on disk since it was opened (it was rewritten"),
        qPrintable(changed.first().at(1).toString()));
    // Still responsive: a curve asked for now is not computed from the changed file, and no
    // dialog or second bar comes.
    dropCurves(win);
    QTRY_VERIFY_WITH_TIMEOUT(!win.w.document()->isBusy(), kTimeout);
    QVERIFY(!win.w.document()->curveData(1));
    QCOMPARE(changed.size(), 1);
    QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
    // The job finishes; Reload.
    QVERIFY(replaceByRename(kDemoDir + "/model.safetensors", dir.filePath("model.safetensors")));
    QSignalSpy opened(win.w.document(), &Document::opened);
    win.w.reloadBar()->reloadButton()->click();
    QVERIFY(!win.w.reloadBar()->isVisible());
    QVERIFY(opened.wait(kTimeout));
    QCOMPARE(win.w.currentLayer(), 1);
    QCOMPARE(win.w.currentHead(), 1);
    QCOMPARE(win.w.splitPoint()->split(), 10);
    QTRY_VERIFY_WITH_TIMEOUT(win.w.document()->curveData(1) && !win.w.document()->isBusy(), kTimeout);
    QCOMPARE(win.w.splitPoint()->split(), 10);
    QVERIFY(!win.w.reloadBar()->isVisible());
    QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
  }

  // Weights replaced by a file of another shape (an operator file: one layer instead of two):
  // Reload shows the new file's layers, the old selection falls back to the first head.
  void checkpointReplacedByOneWithFewerLayers() {
    QTemporaryDir dir;
    QVERIFY(copyDemo(dir));
    TestWindow win(kTimeout);
    QVERIFY(openAtLayer1Head1Split10(win, dir));
    QCOMPARE(win.w.document()->layerCount(), 2);
    QVERIFY(replaceByRename(kOperatorFile, dir.filePath("model.safetensors")));
    QTRY_VERIFY_WITH_TIMEOUT(win.w.reloadBar()->isVisible(), kTimeout);
    QSignalSpy opened(win.w.document(), &Document::opened);
    win.w.reloadBar()->reloadButton()->click();
    QVERIFY(opened.wait(kTimeout));
    QCOMPARE(win.w.document()->layerCount(), 1);
    QCOMPARE(QString::fromStdString(win.w.document()->info().architecture), QStringLiteral("operator"));
    QCOMPARE(win.w.layerTree()->topLevelItemCount(), 1);
    QCOMPARE(win.w.currentLayer(), 0);
    QCOMPARE(win.w.currentHead(), 0);
    QTRY_VERIFY_WITH_TIMEOUT(win.w.document()->curveData(0) && !win.w.document()->isBusy(), kTimeout);
    QCOMPARE(win.w.document()->curveData(0)->length, 64);
    QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
  }

  // Weights deleted: Reload fails with the reason and keeps the window's document; Keep goes on
  // computing from what was read at open, and later changes are not reported again.
  void deletedCheckpointReloadFailsAndKeepGoesOn() {
    QTemporaryDir dir;
    QVERIFY(copyDemo(dir));
    TestWindow win(kTimeout);
    QVERIFY(openAtLayer1Head1Split10(win, dir));
    QVERIFY(QFile::remove(dir.filePath("model.safetensors")));
    QTRY_VERIFY_WITH_TIMEOUT(win.w.reloadBar()->isVisible(), kTimeout);
    QSignalSpy failed(win.w.document(), &Document::openFailed);
    win.w.reloadBar()->reloadButton()->click();
    QVERIFY(failed.wait(kTimeout));
    QCOMPARE(win.errors.size(), 1);
    QVERIFY2(win.errors.first().contains(dir.path()), qPrintable(win.errors.first()));
    QCOMPARE(win.w.document()->path(), dir.path());
    QCOMPARE(win.w.document()->layerCount(), 2);

    // The computation that meets the change shows the bar again; Keep it this time.
    dropCurves(win);
    QTRY_VERIFY_WITH_TIMEOUT(win.w.reloadBar()->isVisible(), kTimeout);
    QVERIFY(!win.w.document()->curveData(1));
    win.w.reloadBar()->keepButton()->click();
    QVERIFY(!win.w.reloadBar()->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(win.w.document()->curveData(1) && !win.w.document()->isBusy(), kTimeout);
    QCOMPARE(win.w.currentLayer(), 1);
    QFile config(dir.filePath("config.json"));
    QVERIFY(config.open(QIODevice::Append));
    config.write("\n");
    config.close();
    dropCurves(win);
    QTRY_VERIFY_WITH_TIMEOUT(win.w.document()->curveData(1) && !win.w.document()->isBusy(), kTimeout);
    QVERIFY(!win.w.reloadBar()->isVisible());
    QCOMPARE(win.errors.size(), 1);
  }

  void errorDialogShowsOneLineAndDetails() {
    const QString longMessage =
        QStringLiteral("a.safetensors: ") + QString(500, QLatin1Char('x')) + QStringLiteral("\nframe 1\nframe 2");
    const QString summary = MainWindow::errorSummary(longMessage);
    QCOMPARE(summary.size(), 300);
    QVERIFY(summary.startsWith(QStringLiteral("a.safetensors: xxx")));
    QVERIFY(!summary.contains('\n'));
    QCOMPARE(MainWindow::errorSummary(QStringLiteral("b.json: no such file")), QStringLiteral("b.json: no such file"));

    // The real dialog: the summary as its text, the whole message in the (collapsed) details.
    MainWindow w;
    QString text, details;
    QTimer closer;  // the dialog is modal: read and close it from a timer
    QObject::connect(&closer, &QTimer::timeout, [&] {
      for (QWidget* top : QApplication::topLevelWidgets())
        if (auto* box = qobject_cast<QMessageBox*>(top); box && box->isVisible()) {
          text = box->text();
          details = box->detailedText();
          box->accept();
        }
    });
    closer.start(20);
    QSignalSpy failed(w.document(), &Document::openFailed);
    w.openPath(QStringLiteral(ESS_TEST_DATA_DIR "/bad/not_json.safetensors"));
    QVERIFY(failed.wait(kTimeout));
    QTRY_VERIFY_WITH_TIMEOUT(!text.isEmpty(), kTimeout);
    QVERIFY2(text.contains("not_json.safetensors") && !text.contains('\n'), qPrintable(text));
    QVERIFY(details.isEmpty() || details.startsWith(text.left(20)));
  }
};

QTEST_MAIN(TestGuiRobust)
#include "test_gui_robust.moc"
