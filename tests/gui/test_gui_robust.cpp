// The GUI on bad files and faults while working (issue 12), on the offscreen platform: a FIFO
// is refused without freezing the window, a second file opened while the first loads wins,
// Cancel abandons an open and keeps the previous document, a checkpoint truncated on disk
// after opening keeps working, and error dialogs show one line with the rest in details.
#include <sys/stat.h>
#include <unistd.h>

#include <QApplication>
#include <QFile>
#include <QMessageBox>
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

namespace {

const QString kOperatorFile = QStringLiteral(ESS_TEST_DATA_DIR "/softmax_attention_h2_L64.safetensors");
const QString kOtherOperatorFile = QStringLiteral(ESS_TEST_DATA_DIR "/gla_d4_L64.safetensors");
const QString kDemoDir = QStringLiteral(ESS_DEMO_DIR "/hybrid");
constexpr int kTimeout = 120000;

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

  // A training job overwriting the weights after the checkpoint was opened: the session works
  // on what it read (nothing is mapped, so nothing can fault).
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
    // Opening it again now reports the damaged file and keeps the open document.
    QSignalSpy failed(win.w.document(), &Document::openFailed);
    win.w.openPath(dir.path());
    QVERIFY(failed.wait(kTimeout));
    QVERIFY2(win.errors.last().contains("model.safetensors: file is empty"), qPrintable(win.errors.last()));
    QCOMPARE(win.w.document()->path(), dir.path());
  }

  // The checkpoint deleted (or replaced) after opening: the session keeps working on what it read.
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
