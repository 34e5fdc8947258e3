// The GUI's background jobs under stress (issue 12), on the offscreen platform with the demo
// checkpoint: 10,000 random actions in a row (split moves, layer and head changes, input
// changes, tab switches, arrow keys, with a fixed seed) never leave a stale result shown nor an
// error: whenever the window is idle, the curve and the heatmap it shows are those of the
// current selection and input, computed again by an independent session; resident memory stays
// bounded.
#include <unistd.h>

#include <QFile>
#include <QSettings>
#include <QStandardPaths>
#include <QtTest>
#include <random>

#include "document.h"
#include "ess/session.h"
#include "ess_curve_view.h"
#include "gui_test_helpers.h"
#include "heatmap_view.h"
#include "main_window.h"
#include "split_point.h"

namespace {

const QString kDemoDir = QStringLiteral(ESS_DEMO_DIR "/hybrid");
constexpr int kTimeout = 120000;

bool waitIdle(MainWindow& w) {
  return QTest::qWaitFor([&] { return !w.document()->isBusy(); }, kTimeout);
}

/// Whether the window, idle, shows the current selection's curve and operator: the curve
/// view's first series equals the tolerance-ESS of `reference` (an independent session on the
/// same file and input) for the selected head, and the heatmap is that layer's operator length.
bool showsCurrent(MainWindow& w, ess::Session& reference, QString* why) {
  Document* d = w.document();
  const int layer = w.currentLayer(), head = w.currentHead();
  if (QString::fromStdString(reference.input()) != d->inputSpec()) reference.setInput(d->inputSpec().toStdString());
  const ess::CurveData c = reference.curve(layer, d->options());
  const QVector<EssSeries>& shown = w.curveView()->series();
  if (shown.isEmpty()) return *why = QStringLiteral("no curve shown"), false;
  const EssSeries& s = shown.first();
  if (s.tolerance.size() != int(c.splits.size()))
    return *why = QStringLiteral("curve of %1 splits shown, %2 expected").arg(s.tolerance.size()).arg(c.splits.size()),
           false;
  for (int i = 0; i < s.tolerance.size(); ++i)
    if (s.splits[i] != c.splits[size_t(i)] || s.tolerance[i] != c.tolerance[size_t(head)][size_t(i)])
      return *why = QStringLiteral("stale curve at split %1 (layer %2 head %3, input %4)")
                        .arg(c.splits[size_t(i)])
                        .arg(layer)
                        .arg(head)
                        .arg(d->inputSpec()),
             false;
  if (w.heatmapView()->length() != int(reference.tokens().size()))
    return *why = QStringLiteral("heatmap of length %1, input of %2 tokens")
                      .arg(w.heatmapView()->length())
                      .arg(reference.tokens().size()),
           false;
  if (!w.heatmapView()->title().contains(QStringLiteral("layer %1 ").arg(layer)) ||
      !w.heatmapView()->title().contains(QStringLiteral("head %1").arg(head)))
    return *why = QStringLiteral("heatmap titled '%1' for layer %2 head %3")
                      .arg(w.heatmapView()->title())
                      .arg(layer)
                      .arg(head),
           false;
  return true;
}

}  // namespace

class TestGuiRobustJobs : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("ess-explorer-tests"));
    QCoreApplication::setApplicationName(QStringLiteral("test_gui_robust_jobs"));
    QSettings().clear();
  }

  // 10,000 random actions (fixed seed) without waiting for their results; every 1,000 the
  // window goes idle and must show what the current selection and input give. Resident memory
  // after the run stays within a bound of where it was after the first thousand.
  void tenThousandRandomActionsShowNoStaleResult() {
    TestWindow win(kTimeout);
    win.w.resize(800, 500);  // less to paint per action
    QVERIFY(win.open(kDemoDir));
    QVERIFY(waitIdle(win.w));
    Document* d = win.w.document();
    std::unique_ptr<ess::Session> reference = ess::Session::open(kDemoDir.toStdString());
    const QStringList inputs = {QStringLiteral("random:seed=1,len=24"), QStringLiteral("random:seed=2,len=40"),
                                QStringLiteral("mqar:seed=3,len=32,pairs=4"), QStringLiteral("random:seed=4,len=17")};
    std::mt19937 rng(12);
    const auto pick = [&](int n) { return int(rng() % unsigned(n)); };
    double after600 = 0;
#ifdef ESS_SANITIZE
    // Under AddressSanitizer 10,000 actions outlast QtTest's 300 s limit, and its quarantine of
    // freed memory makes resident memory meaningless: fewer actions, no memory bound.
    const int actions = 2000;
#else
    const int actions = 10000;
#endif
    for (int i = 1; i <= actions; ++i) {
      switch (pick(10)) {
        case 0:
        case 1:
        case 2:
          win.w.splitPoint()->setSplit(1 + pick(std::max(1, win.w.splitPoint()->length() - 1)));
          break;
        case 3:
        case 4: {
          const int layer = pick(d->layerCount());
          win.w.selectHead(layer, pick(d->headCount(layer)));
          break;
        }
        case 5:
          win.w.selectHead(win.w.currentLayer(), pick(d->headCount(win.w.currentLayer())));
          break;
        case 6:
          d->setInput(inputs[pick(inputs.size())]);
          break;
        case 7:
          win.w.showTab(MainWindow::Tab(pick(3)));
          break;
        default:
          QTest::keyClick(win.w.heatmapView(), pick(2) ? Qt::Key_Left : Qt::Key_Right);
      }
      QCoreApplication::processEvents();
      if (i % 1000 == 0) {
        win.w.showTab(MainWindow::Tab::Head);
        QVERIFY(waitIdle(win.w));
        QString why;
        QVERIFY2(QTest::qWaitFor([&] { return !d->isBusy() && showsCurrent(win.w, *reference, &why); }, kTimeout),
                 qPrintable(QStringLiteral("after %1 actions: %2").arg(i).arg(why)));
        QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
        if (i == 1000) after600 = residentMiB();
      }
    }
    const double after = residentMiB();
    qInfo("resident %.0f MiB after 1,000 actions, %.0f MiB after %d", after600, after, actions);
#ifndef ESS_SANITIZE
    QVERIFY2(after < after600 + 96, qPrintable(QStringLiteral("%1 MiB -> %2 MiB").arg(after600).arg(after)));
#endif
  }
};

QTEST_MAIN(TestGuiRobustJobs)
#include "test_gui_robust_jobs.moc"
