// Sessions through the main window on the offscreen platform: a state set up in one window
// (non-default layer, head, split, input, options, tab, zoom of every zoomable view, colours), saved and opened in a
// fresh window, comes back item by item; a session file dropped on the window or given to
// openPath() is recognised by its content; malformed files (bad JSON, a newer version, a
// missing checkpoint, a mistyped field, a layer the model does not have) give one error
// naming the file and the field and leave the window usable; a checkpoint or a textfile: input
// below the session file is stored relative to it and found again after the folder moved; a
// channel group comes back as that group; the SSM-only operator choice comes back.
#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMimeData>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>

#include "comparison.h"
#include "controls_panel.h"
#include "document.h"
#include "ess_curve_view.h"
#include "gui_test_helpers.h"
#include "heatmap_view.h"
#include "main_window.h"
#include "position_ess_view.h"
#include "selection.h"
#include "session_file.h"
#include "session_restore.h"
#include "spectrum_view.h"
#include "split_point.h"

namespace {

const QString kOperatorFile = QStringLiteral(ESS_TEST_DATA_DIR "/softmax_attention_h2_L64.safetensors");
const QString kDemoDir = qEnvironmentVariable("ESS_DEMO_CHECKPOINT", QStringLiteral(ESS_DEMO_DIR "/hybrid"));
constexpr int kTimeout = 120000;

struct Window : TestWindow {
  Window() : TestWindow(kTimeout) {}
  /// Opens a session file through openPath (as the command line and Open Recent do).
  bool restore(const QString& session) {
    QSignalSpy restored(&w, &MainWindow::sessionRestored);
    w.openPath(session);
    return restored.wait(timeoutMs);
  }
  bool idle() const { return !w.document()->isBusy(); }
};

void writeText(const QString& path, const QByteArray& text) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
  f.write(text);
}

QJsonObject readJson(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QJsonDocument::fromJson(f.readAll()).object();
}

/// The document's operator of `layer`, formed now (waits for operatorReady).
const ess::OperatorData* operatorOf(Document* d, int layer) { return ::operatorOf(d, layer, kTimeout); }

void compareRange(const QCPRange& got, double lower, double upper) {
  QCOMPARE(got.lower, lower);
  QCOMPARE(got.upper, upper);
}

}  // namespace

class TestSession : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("ess-explorer-tests"));
    QCoreApplication::setApplicationName(QStringLiteral("test_gui_session"));
    QSettings().clear();
  }

  void savedSessionReopensToTheSameState() {
    if (!QDir(kDemoDir).exists()) QSKIP("no bundled demo checkpoint (resources/demo/hybrid)");
    QTemporaryDir tmp;
    const QString session = tmp.filePath(QStringLiteral("study.json"));
    const QString input = QStringLiteral("mqar:seed=3,len=32,pairs=4");
    {
      Window win;
      MainWindow& w = win.w;
      QVERIFY(win.open(kDemoDir));
      QVERIFY(win.setInput(input));
      ControlsPanel* c = w.controls();
      c->toleranceBox()->setValue(0.01);
      c->normalizationBox()->setCurrentIndex(c->normalizationBox()->findData(QStringLiteral("sum")));
      c->logScaleBox()->setChecked(true);
      c->colorMapBox()->setCurrentIndex(c->colorMapBox()->findData(QStringLiteral("magma")));
      c->setColorRangeText(QStringLiteral("-3:0"));
      c->maskUpperBox()->setChecked(true);
      w.positionMarksEdit()->setText(QStringLiteral("7, 9"));
      w.selectHead(1, 1);
      w.showTab(MainWindow::Tab::Position);
      QTRY_VERIFY_WITH_TIMEOUT(win.idle() && w.heatmapView()->length() == 32 && w.positionView()->rowCount() == 1 &&
                                   w.curveView()->graphCount() > 0,
                               kTimeout);
      w.splitPoint()->setSplit(11);
      w.heatmapView()->setZoom({2.5, 20.5}, {4.5, 22.5});
      w.curveView()->xAxis->setRange(3, 25);
      w.positionView()->xAxis->setRange(5, 21);
      QTRY_VERIFY_WITH_TIMEOUT(win.idle(), kTimeout);
      // The spectrum's axes are reset by each new spectrum: zoom it once split 11's is shown.
      QTRY_VERIFY_WITH_TIMEOUT(win.idle() && w.spectrumView()->dataSplit() == 11, kTimeout);
      w.spectrumView()->xAxis->setRange(1.5, 6.5);
      w.spectrumView()->yAxis->setRange(1e-4, 2);
      QString error;
      QVERIFY2(w.saveSession(session, &error), qPrintable(error));
      QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
      QCOMPARE(QSettings().value("recentFiles").toStringList().value(0), session);
    }
    // The file: versioned, the demo's path absolute (it is not below the session's folder).
    const QJsonObject json = readJson(session);
    QCOMPARE(json.value("format").toString(), QStringLiteral("ess-explorer-session"));
    QCOMPARE(json.value("version").toInt(), 1);
    QCOMPARE(json.value("checkpoint").toString(), QFileInfo(kDemoDir).absoluteFilePath());
    QCOMPARE(json.value("input").toString(), input);
    QCOMPARE(json.value("tab").toString(), QStringLiteral("position"));

    // A fresh window on the file, opened as the command line opens it.
    Window win;
    MainWindow& w = win.w;
    QVERIFY(win.restore(session));
    QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
    QCOMPARE(QFileInfo(w.document()->path()), QFileInfo(kDemoDir));
    QCOMPARE(w.document()->inputSpec(), input);
    QCOMPARE(w.document()->options().tolerance_, 0.01);
    QVERIFY(w.document()->options().normalization_ == ess::Normalization::Sum);
    QCOMPARE(w.currentLayer(), 1);
    QCOMPARE(w.currentHead(), 1);
    QVERIFY(!w.isAggregateSelected());
    QCOMPARE(w.splitPoint()->split(), 11);
    QCOMPARE(w.tabs()->currentIndex(), int(MainWindow::Tab::Position));
    QCOMPARE(w.heatmapView()->length(), 32);
    QVERIFY(w.heatmapView()->title().contains(QStringLiteral("layer 1")));
    QVERIFY(w.heatmapView()->isZoomed());
    compareRange(w.heatmapView()->xAxis->range(), 2.5, 20.5);
    compareRange(w.heatmapView()->yAxis->range(), 4.5, 22.5);
    compareRange(w.curveView()->xAxis->range(), 3, 25);
    compareRange(w.positionView()->xAxis->range(), 5, 21);
    QCOMPARE(w.spectrumView()->dataSplit(), 11);
    compareRange(w.spectrumView()->xAxis->range(), 1.5, 6.5);
    compareRange(w.spectrumView()->yAxis->range(), 1e-4, 2);
    QCOMPARE(w.heatmapView()->scale(), HeatmapView::Scale::Log10);
    QCOMPARE(w.heatmapView()->effectiveColorMap(), colormaps::Map::Magma);
    QVERIFY(w.heatmapView()->maskUpper());
    QCOMPARE(w.controls()->colorRangeEdit()->text(), QStringLiteral("-3:0"));
    QCOMPARE(w.positionMarksEdit()->text(), QStringLiteral("7, 9"));
    // Every stored item, as the window captures it again.
    const QJsonObject again = QJsonDocument::fromJson(sessionfile::toJson(captureSession(w), session)).object();
    QCOMPARE(again, json);
    QCOMPARE(QSettings().value("recentFiles").toStringList().value(0), session);
  }

  void droppedSessionFileIsRestored() {
    QTemporaryDir tmp;
    const QString session = tmp.filePath(QStringLiteral("dropped.json"));
    writeText(session, QStringLiteral(R"({"format": "ess-explorer-session", "version": 1, "checkpoint": "%1",
                                          "selection": {"kind": "total", "layer": 0}, "split": 40, "tab": "head"})")
                           .arg(kOperatorFile)
                           .toUtf8());
    Window win;
    MainWindow& w = win.w;
    auto* mime = new QMimeData;
    mime->setUrls({QUrl::fromLocalFile(session)});
    QSignalSpy restored(&w, &MainWindow::sessionRestored);
    QDragEnterEvent enter(QPoint(100, 100), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&w, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(100, 100), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&w, &drop);
    const bool done = restored.wait(kTimeout);
    delete mime;
    QVERIFY2(done, qPrintable(win.errors.join('\n')));
    QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
    QCOMPARE(w.document()->path(), kOperatorFile);
    QVERIFY(w.isLayerTotalSelected());
    QCOMPARE(w.splitPoint()->split(), 40);
    QCOMPARE(w.tabs()->currentIndex(), int(MainWindow::Tab::Head));
  }

  void malformedSessionsSayWhatIsWrong() {
    QTemporaryDir tmp;
    const QString gla = QStringLiteral(ESS_TEST_DATA_DIR "/gla_d4_L64.safetensors");
    Window win;
    MainWindow& w = win.w;
    QVERIFY(win.open(gla));
    const QString head = QStringLiteral(R"({"format": "ess-explorer-session", "version": 1, )");
    struct Case {
      const char* name;
      QString text;
      QString field;  // what the message names besides the file
    };
    const QList<Case> cases = {
        {"bad_json.json", head + QStringLiteral(R"("checkpoint": )"), QStringLiteral("not valid JSON at byte")},
        {"newer.json",
         QStringLiteral(R"({"format": "ess-explorer-session", "version": 99, "checkpoint": "%1"})").arg(gla),
         QStringLiteral("field \"version\" 99 is newer")},
        {"no_version.json", QStringLiteral(R"({"format": "ess-explorer-session", "checkpoint": "%1"})").arg(gla),
         QStringLiteral("field \"version\" is missing")},
        {"missing_checkpoint.json", head + QStringLiteral(R"("checkpoint": "gone/model.safetensors"})"),
         QStringLiteral("field \"checkpoint\" names %1, which does not exist")
             .arg(tmp.filePath("gone/model.safetensors"))},
        {"bad_split.json", head + QStringLiteral(R"("checkpoint": "%1", "split": "x"})").arg(gla),
         QStringLiteral("field \"split\" must be an integer")},
        {"bad_colormap.json", head + QStringLiteral(R"("checkpoint": "%1", "view": {"colormap": "jet"}})").arg(gla),
         QStringLiteral("field \"view.colormap\" 'jet' is not a colormap")},
    };
    for (const Case& c : cases) {
      const QString path = tmp.filePath(QString::fromLatin1(c.name));
      writeText(path, c.text.toUtf8());
      win.errors.clear();
      w.openPath(path);
      QCOMPARE(win.errors.size(), 1);
      QVERIFY2(win.errors[0].startsWith(QStringLiteral("Session file %1: ").arg(path)), qPrintable(win.errors[0]));
      QVERIFY2(win.errors[0].contains(c.field), qPrintable(win.errors[0]));
      QCOMPARE(w.document()->path(), gla);  // nothing else was opened
    }
    // Open Session on a file that is not a session at all (the Open Session dialog's path).
    win.errors.clear();
    w.openSession(kOperatorFile);
    QCOMPARE(win.errors.size(), 1);
    QVERIFY2(win.errors[0].contains(QStringLiteral("not valid JSON")), qPrintable(win.errors[0]));

    // A checkpoint that exists but does not open: one error, naming the session and the field.
    const QString broken = tmp.filePath(QStringLiteral("broken.json"));
    writeText(
        broken,
        (head + QStringLiteral(R"("checkpoint": "%1"})").arg(ESS_TEST_DATA_DIR "/bad/not_json.safetensors")).toUtf8());
    win.errors.clear();
    w.openPath(broken);
    QTRY_COMPARE_WITH_TIMEOUT(win.errors.size(), 1, kTimeout);
    QVERIFY2(win.errors[0].startsWith(
                 QStringLiteral("Session file %1: field \"checkpoint\" could not be opened: ").arg(broken)),
             qPrintable(win.errors[0]));
    QVERIFY2(win.errors[0].contains(QStringLiteral("not_json.safetensors")), qPrintable(win.errors[0]));
    QCOMPARE(win.errors.size(), 1);
    QCOMPARE(w.document()->path(), gla);

    // A layer the model does not have: found once the checkpoint is open, named by field.
    const QString layer = tmp.filePath(QStringLiteral("layer.json"));
    writeText(layer,
              (head + QStringLiteral(R"("checkpoint": "%1", "selection": {"kind": "head", "layer": 3, "first": 0}})")
                          .arg(kOperatorFile))
                  .toUtf8());
    win.errors.clear();
    w.openPath(layer);
    QTRY_COMPARE_WITH_TIMEOUT(win.errors.size(), 1, kTimeout);
    QCOMPARE(win.errors[0],
             QStringLiteral("Session file %1: field \"selection.layer\" is 3, outside 0..0.").arg(layer));
    const QString headField = tmp.filePath(QStringLiteral("head.json"));
    writeText(headField,
              (head + QStringLiteral(R"("checkpoint": "%1", "selection": {"kind": "head", "layer": 0, "first": 5}})")
                          .arg(kOperatorFile))
                  .toUtf8());
    win.errors.clear();
    w.openPath(headField);
    QTRY_COMPARE_WITH_TIMEOUT(win.errors.size(), 1, kTimeout);
    QVERIFY2(win.errors[0].contains(QStringLiteral("field \"selection.first\" is 5, outside 0..1")),
             qPrintable(win.errors[0]));

    // The window is usable: the checkpoint is open, heads can be chosen, files opened.
    QCOMPARE(w.document()->path(), kOperatorFile);
    w.selectHead(0, 1);
    QCOMPARE(w.currentHead(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(w.heatmapView()->length() == 64, kTimeout);
    QVERIFY(win.open(gla));
    QCOMPARE(w.document()->path(), gla);
  }

  void relativePathsSurviveMovingTheFolder() {
    QTemporaryDir tmp;
    QVERIFY(QDir(tmp.path()).mkpath(QStringLiteral("study/data")));
    const QString op = tmp.filePath(QStringLiteral("study/data/op.safetensors"));
    QVERIFY(QFile::copy(kOperatorFile, op));
    const QString session = tmp.filePath(QStringLiteral("study/s.json"));
    {
      Window win;
      MainWindow& w = win.w;
      QVERIFY(win.open(op));
      w.selectHead(0, 1);
      QTRY_VERIFY_WITH_TIMEOUT(win.idle() && w.heatmapView()->length() == 64, kTimeout);
      w.splitPoint()->setSplit(20);
      QVERIFY(w.saveSession(session));
    }
    QCOMPARE(readJson(session).value("checkpoint").toString(), QStringLiteral("data/op.safetensors"));
    QVERIFY(QDir(tmp.path()).rename(QStringLiteral("study"), QStringLiteral("moved")));
    const QString moved = tmp.filePath(QStringLiteral("moved/s.json"));
    Window win;
    MainWindow& w = win.w;
    QVERIFY(win.restore(moved));
    QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
    QCOMPARE(w.document()->path(), tmp.filePath(QStringLiteral("moved/data/op.safetensors")));
    QCOMPARE(w.currentHead(), 1);
    QCOMPARE(w.splitPoint()->split(), 20);
  }

  // Compare A/B in a session: the pinned A is stored (relative below the session's folder) with
  // the T_B - T_A switch and comes back pinned and compared; a session without it unpins.
  void comparisonComesBack() {
    QTemporaryDir tmp;
    const QString a = tmp.filePath(QStringLiteral("a.safetensors")), b = tmp.filePath(QStringLiteral("b.safetensors"));
    QVERIFY(QFile::copy(QStringLiteral(ESS_TEST_DATA_DIR "/gla_d4_L64.safetensors"), a));
    QVERIFY(QFile::copy(QStringLiteral(ESS_TEST_DATA_DIR "/lti_ssm_n4_L64.safetensors"), b));
    const QString session = tmp.filePath(QStringLiteral("ab.json")), plain = tmp.filePath(QStringLiteral("b.json"));
    {
      Window win;
      MainWindow& w = win.w;
      QVERIFY(win.open(b));
      QVERIFY(w.saveSession(plain));
      QVERIFY(win.open(a));
      w.comparison()->pin();
      QVERIFY(win.open(b));
      QTRY_VERIFY_WITH_TIMEOUT(w.comparison()->isActive(), kTimeout);
      w.comparison()->setShowDifference(true);
      w.splitPoint()->setSplit(30);
      QVERIFY(w.saveSession(session));
    }
    const QJsonObject compare = readJson(session).value("compare").toObject();
    QCOMPARE(compare.value("a").toString(), QStringLiteral("a.safetensors"));
    QCOMPARE(compare.value("difference").toBool(), true);
    QVERIFY(!readJson(plain).contains("compare"));

    Window win;
    MainWindow& w = win.w;
    QVERIFY(win.restore(session));
    QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
    QCOMPARE(w.document()->path(), b);
    QVERIFY(w.comparison()->isPinned());
    QCOMPARE(w.comparison()->pinnedPath(), a);
    QVERIFY(w.comparison()->showsDifference());
    QTRY_VERIFY_WITH_TIMEOUT(w.comparison()->isActive(), kTimeout);
    QTRY_COMPARE_WITH_TIMEOUT(int(w.curveView()->series().size()), 2, kTimeout);
    QCOMPARE(w.curveView()->series()[1].name, QStringLiteral("a.safetensors"));
    QTRY_VERIFY_WITH_TIMEOUT(w.heatmapView()->title().startsWith("T_B - T_A"), kTimeout);
    QCOMPARE(w.splitPoint()->split(), 30);
    // The Compare menu's switch shows it.
    bool checked = false;
    for (QAction* menu : w.menuBar()->actions())
      if (menu->menu())
        for (QAction* action : menu->menu()->actions())
          if (action->text() == QStringLiteral("Show T_B - T_A")) checked = action->isChecked();
    QVERIFY(checked);

    // A session without `compare` ends the comparison.
    QVERIFY(win.restore(plain));
    QVERIFY(!w.comparison()->isPinned());
    QVERIFY(!w.comparison()->showsDifference());
    QTRY_COMPARE_WITH_TIMEOUT(int(w.curveView()->series().size()), 1, kTimeout);

    // A missing A is a field error naming the file.
    const QString broken = tmp.filePath(QStringLiteral("broken.json"));
    writeText(broken, QStringLiteral(R"({"format": "ess-explorer-session", "version": 1, "checkpoint": "b.safetensors",
                                         "compare": {"a": "gone.safetensors"}})")
                          .toUtf8());
    win.errors.clear();
    w.openPath(broken);
    QCOMPARE(win.errors.size(), 1);
    QCOMPARE(win.errors[0], QStringLiteral("Session file %1: field \"compare.a\" names %2, which does not exist.")
                                .arg(broken, tmp.filePath(QStringLiteral("gone.safetensors"))));
  }

  // View > SSM-only Operators: stored as "operator": "ssm" and restored (the open forms the
  // SSM-only operators, the menu entry is checked); a session without the key (written before it
  // was stored) opens with the block's; ssm for an operator file, or another word, is a field error.
  void operatorScopeComesBack() {
    QTemporaryDir tmp;
    const QString mamba2 = QStringLiteral(ESS_TEST_DATA_DIR "/hf/mamba2_torch");
    const QString input = QStringLiteral("tokens:1,31,7,7,0,12,25,3,9,18,30,2");
    const QString session = tmp.filePath(QStringLiteral("ssm.json"));
    double block = 0, ssm = 0;
    {
      Window win;
      MainWindow& w = win.w;
      QVERIFY(win.open(mamba2));
      QVERIFY(win.setInput(input));
      QVERIFY(operatorOf(w.document(), 0));
      block = operatorOf(w.document(), 0)->at(5, 11, 2);
      auto* action = w.findChild<QAction*>(QStringLiteral("ssmOperatorsAction"));
      QVERIFY(action);
      QSignalSpy changed(w.document(), &Document::operatorScopeChanged);
      action->trigger();
      QVERIFY(changed.wait(kTimeout));
      QCOMPARE(w.document()->operatorScope(), ess::OperatorScope::Ssm);
      QVERIFY(operatorOf(w.document(), 0));
      ssm = operatorOf(w.document(), 0)->at(5, 11, 2);
      QVERIFY(std::abs(ssm - block) > 1e-6);  // the gated norm's factor is gone
      QVERIFY(w.saveSession(session));
      QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
    }
    QJsonObject json = readJson(session);
    QCOMPARE(json.value("operator").toString(), QStringLiteral("ssm"));

    Window win;
    MainWindow& w = win.w;
    auto* action = w.findChild<QAction*>(QStringLiteral("ssmOperatorsAction"));
    QVERIFY(action && !action->isChecked());
    QVERIFY(win.restore(session));
    QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
    QCOMPARE(w.document()->operatorScope(), ess::OperatorScope::Ssm);
    QVERIFY(action->isChecked());
    QCOMPARE(w.document()->inputSpec(), input);
    QVERIFY(operatorOf(w.document(), 0));
    QCOMPARE(operatorOf(w.document(), 0)->at(5, 11, 2), ssm);
    QCOMPARE(captureSession(w).operatorScope, ess::OperatorScope::Ssm);

    // Without the key (an older session file): the block's operators, even in a window showing
    // the SSM-only ones.
    json.remove(QStringLiteral("operator"));
    const QString old = tmp.filePath(QStringLiteral("old.json"));
    writeText(old, QJsonDocument(json).toJson());
    QVERIFY(win.restore(old));
    QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
    QCOMPARE(w.document()->operatorScope(), ess::OperatorScope::Block);
    QVERIFY(!action->isChecked());
    QVERIFY(operatorOf(w.document(), 0));
    QCOMPARE(operatorOf(w.document(), 0)->at(5, 11, 2), block);

    // An operator file has no SSM-only operators; "full" is no scope.
    const QString head = QStringLiteral(R"({"format": "ess-explorer-session", "version": 1, "checkpoint": "%1", )");
    const QString file = tmp.filePath(QStringLiteral("file.json")), word = tmp.filePath(QStringLiteral("word.json"));
    writeText(file, (head + QStringLiteral(R"("operator": "ssm"})")).arg(kOperatorFile).toUtf8());
    writeText(word, (head + QStringLiteral(R"("operator": "full"})")).arg(mamba2).toUtf8());
    win.errors.clear();
    w.openPath(word);
    QCOMPARE(win.errors.size(), 1);
    QCOMPARE(win.errors[0],
             QStringLiteral("Session file %1: field \"operator\" must be block or ssm, not 'full'.").arg(word));
    win.errors.clear();
    w.openPath(file);
    QTRY_COMPARE_WITH_TIMEOUT(win.errors.size(), 1, kTimeout);
    QVERIFY2(win.errors[0].startsWith(QStringLiteral("Session file %1: field \"operator\" is 'ssm', but %2 holds one "
                                                     "operator per layer")
                                          .arg(file, kOperatorFile)),
             qPrintable(win.errors[0]));
    QCOMPARE(w.document()->path(), kOperatorFile);
    QCOMPARE(w.document()->operatorScope(), ess::OperatorScope::Block);
    QVERIFY(!action->isChecked());
  }

  // A textfile: input below the session's folder is stored relative too; a channel group
  // (heads 1..2 of a 4-head layer) comes back as that group.
  void relativeTextFileAndGroupSurviveMovingTheFolder() {
    QTemporaryDir tmp;
    QVERIFY(QDir(tmp.path()).mkpath(QStringLiteral("notes")));
    const QString text = tmp.filePath(QStringLiteral("notes/essay.txt"));
    writeText(text, "the cat.\nthe end");
    const QString model = QStringLiteral(ESS_TEST_DATA_DIR "/hf/gpt2_torch");
    const QString session = tmp.filePath(QStringLiteral("notes/s.json"));
    int heads = 0;
    {
      Window win;
      MainWindow& w = win.w;
      QVERIFY(win.open(model));
      QVERIFY(win.setInput(QStringLiteral("textfile:") + text));
      heads = w.document()->headCount(0);
      QVERIFY(heads >= 2);
      w.selectGroup(0, 1, heads - 1);
      QTRY_VERIFY_WITH_TIMEOUT(win.idle() && w.heatmapView()->length() > 1, kTimeout);
      QVERIFY(w.saveSession(session));
      QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
    }
    const QJsonObject json = readJson(session);
    QCOMPARE(json.value("input").toString(), QStringLiteral("textfile:essay.txt"));
    QCOMPARE(json.value("checkpoint").toString(), QFileInfo(model).absoluteFilePath());
    QCOMPARE(json.value("selection").toObject().value("kind").toString(), QStringLiteral("group"));
    QVERIFY(QDir(tmp.path()).rename(QStringLiteral("notes"), QStringLiteral("moved")));
    Window win;
    MainWindow& w = win.w;
    QVERIFY(win.restore(tmp.filePath(QStringLiteral("moved/s.json"))));
    QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
    QCOMPARE(w.document()->inputSpec(), QStringLiteral("textfile:") + tmp.filePath(QStringLiteral("moved/essay.txt")));
    QVERIFY(w.isAggregateSelected() && !w.isLayerTotalSelected());
    QCOMPARE(w.selectionFirst(), 1);
    QCOMPARE(w.selectionLast(), heads - 1);
  }
};

QTEST_MAIN(TestSession)
#include "test_gui_session.moc"
