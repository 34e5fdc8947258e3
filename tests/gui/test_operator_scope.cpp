// View > SSM-only Operators (ess/operator_scope.h): on a Hugging Face recurrent checkpoint the
// document forms the SSM-only operators (the CLI's --operator ssm) and the views show them;
// unchecked, the block's again; an operator file refuses it with an error and the action
// unchecks; the choice carries to the next file opened.
#include <QAction>
#include <QApplication>
#include <QSettings>
#include <QSignalSpy>
#include <QtTest>

#include "document.h"
#include "gui_test_helpers.h"
#include "heatmap_view.h"
#include "main_window.h"

namespace {

constexpr int kTimeout = 120000;
const QString kMamba2 = QStringLiteral(ESS_TEST_DATA_DIR "/hf/mamba2_torch");
const QString kOperatorFile = QStringLiteral(ESS_TEST_DATA_DIR "/softmax_attention_h2_L64.safetensors");

struct Window : TestWindow {
  Window() : TestWindow(kTimeout) {}
};

/// The document's operator of `layer`, formed now (waits for operatorReady).
const ess::OperatorData* operatorOf(Document* d, int layer) { return ::operatorOf(d, layer, kTimeout); }

}  // namespace

class TestOperatorScope : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    QCoreApplication::setOrganizationName(QStringLiteral("ess-explorer-tests"));
    QCoreApplication::setApplicationName(QStringLiteral("test_operator_scope"));
    QSettings().clear();
  }

  void ssmOperatorsFromTheViewMenu() {
    Window win;
    MainWindow& w = win.w;
    auto* action = w.findChild<QAction*>(QStringLiteral("ssmOperatorsAction"));
    QVERIFY(action && action->isCheckable() && !action->isChecked());
    QVERIFY(win.open(kMamba2));
    Document* d = w.document();
    QVERIFY(win.setInput(QStringLiteral("tokens:1,31,7,7,0,12,25,3,9,18,30,2")));
    const ess::OperatorData* blockOp = operatorOf(d, 0);
    QVERIFY(blockOp);
    const double block = blockOp->at(5, 11, 2);

    QSignalSpy changed(d, &Document::operatorScopeChanged);
    action->trigger();  // checks it
    QVERIFY(changed.wait(kTimeout));
    QVERIFY(action->isChecked());
    QCOMPARE(d->operatorScope(), ess::OperatorScope::Ssm);
    const ess::OperatorData* ssmOp = operatorOf(d, 0);
    QVERIFY(ssmOp);
    QVERIFY(std::abs(ssmOp->at(5, 11, 2) - block) > 1e-6);  // the gated norm's factor is gone
    // The heatmap shows the new operator.
    QTRY_COMPARE_WITH_TIMEOUT(w.heatmapView()->valueAt(11, 2), ssmOp->at(w.currentHead(), 11, 2), kTimeout);

    action->trigger();  // unchecks it: the block's operators again
    QVERIFY(changed.wait(kTimeout));
    QCOMPARE(d->operatorScope(), ess::OperatorScope::Block);
    QCOMPARE(operatorOf(d, 0)->at(5, 11, 2), block);
    QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));

    // An operator file holds one operator: asking for ssm is an error, the action unchecks.
    action->trigger();
    QVERIFY(changed.wait(kTimeout));
    QVERIFY(win.open(kOperatorFile));
    QTRY_VERIFY_WITH_TIMEOUT(!action->isChecked(), kTimeout);  // the new file stays block
    QCOMPARE(d->operatorScope(), ess::OperatorScope::Block);
    action->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(!win.errors.isEmpty(), kTimeout);
    QVERIFY2(win.errors.last().contains(QStringLiteral("holds one operator per layer")), qPrintable(win.errors.last()));
    QTRY_VERIFY_WITH_TIMEOUT(!action->isChecked(), kTimeout);
    QCOMPARE(d->operatorScope(), ess::OperatorScope::Block);
  }
};

QTEST_MAIN(TestOperatorScope)
#include "test_operator_scope.moc"
