// Tests of the GUI's building blocks below the window: the Selection every view observes, the
// keyed background cache and the latest-only job behind the Document, the layer tree's
// selection intent, and the named tabs, one per presenter.
#include <QSignalSpy>
#include <QTabWidget>
#include <QThreadPool>
#include <QtTest>
#include <atomic>
#include <stdexcept>

#include "async_cache.h"
#include "gui_test_helpers.h"
#include "layer_tree.h"
#include "main_window.h"
#include "selection.h"

namespace {
const QString kOperatorFile = QStringLiteral(ESS_TEST_DATA_DIR "/softmax_attention_h2_L64.safetensors");
constexpr int kTimeout = 120000;
}  // namespace

class TestGuiStructure : public QObject {
  Q_OBJECT
 private slots:
  void selectionChecksRangesAndReportsThePreviousLayer() {
    Selection s;
    QSignalSpy changed(&s, &Selection::changed);
    QVERIFY(!s.selectHead(0, 0));  // no layers yet
    s.setLayers({2, 64});
    QVERIFY(!s.isValid());
    QVERIFY(!s.selectHead(0, 2));
    QVERIFY(!s.selectGroup(1, 8, 64));
    QVERIFY(!s.selectHead(2, 0));
    QCOMPARE(changed.count(), 0);

    QVERIFY(s.selectHead(0, 1));
    QCOMPARE(s.kind(), Selection::Kind::Head);
    QCOMPARE(s.head(), 1);
    QCOMPARE(s.first(), 1);
    QCOMPARE(s.last(), 1);
    QVERIFY(!s.isAggregate());
    QCOMPARE(changed.last().at(0).toInt(), -1);

    QVERIFY(s.selectGroup(1, 8, 15));
    QVERIFY(s.isAggregate());
    QVERIFY(!s.isLayerTotal());
    QCOMPARE(s.head(), 8);
    QCOMPARE(changed.last().at(0).toInt(), 0);

    QVERIFY(s.selectLayerTotal(1));
    QVERIFY(s.isLayerTotal());
    QCOMPARE(s.first(), 0);
    QCOMPARE(s.last(), 63);
    QCOMPARE(changed.last().at(0).toInt(), 1);

    // Selecting the same again is announced too (views re-request what is missing).
    QVERIFY(s.selectLayerTotal(1));
    QCOMPARE(changed.count(), 4);

    s.setLayers({1});
    QVERIFY(!s.isValid());
    QCOMPARE(s.layer(), -1);
    QCOMPARE(changed.count(), 4);
  }

  void asyncCacheComputesOnceAndKeepsTheValue() {
    QObject context;
    QThreadPool pool;
    quint64 generation = 0;
    int started = 0, finished = 0;
    QList<QPair<int, bool>> ready;
    QStringList errors;
    AsyncCache<int, int> cache(&context, &pool, &generation,
                               {[&](const QString&) { ++started; }, [&] { ++finished; }, {}},
                               {[&](int key, bool final) {
                                  ready.append({key, final});
                                },
                                [&](int, const QString& m) { errors << m; },
                                {}});
    std::atomic<int> runs{0};
    auto job = [&runs](int v) {
      return [&runs, v](const AsyncCache<int, int>::Deliver& deliver) {
        ++runs;
        deliver(std::make_shared<const int>(v), false);  // a preview first
        deliver(std::make_shared<const int>(v * 10), true);
      };
    };
    cache.request(1, QStringLiteral("one"), job(1));
    cache.request(1, QStringLiteral("one"), job(1));  // already computing: not started again
    QVERIFY(cache.isPending(1));
    QTRY_COMPARE(finished, 1);
    QCOMPARE(started, 1);
    QCOMPARE(runs.load(), 1);
    QCOMPARE(ready, (QList<QPair<int, bool>>{{1, false}, {1, true}}));
    QVERIFY(!cache.isPending(1));
    QCOMPARE(*cache.value(1), 10);
    QVERIFY(cache.isFinal(1));

    // Cached: ready again, no new job.
    cache.request(1, QStringLiteral("one"), job(1));
    QTRY_COMPARE(ready.size(), 3);
    QCOMPARE(runs.load(), 1);
    QCOMPARE(started, 1);

    // Errors arrive as messages and leave nothing cached.
    cache.request(2, QStringLiteral("two"),
                  [](const AsyncCache<int, int>::Deliver&) { throw std::runtime_error("no such layer"); });
    QTRY_COMPARE(errors.size(), 1);
    QCOMPARE(errors.first(), QStringLiteral("no such layer"));
    QVERIFY(!cache.contains(2));
    QVERIFY(!cache.isPending(2));
    QTRY_COMPARE(finished, 2);
  }

  void asyncCacheDropsResultsOfAnOlderGeneration() {
    QObject context;
    QThreadPool pool;
    quint64 generation = 0;
    int finished = 0, readyCount = 0;
    AsyncCache<int, int> cache(&context, &pool, &generation, {{}, [&] { ++finished; }, {}},
                               {[&](int, bool) { ++readyCount; }, {}, {}});
    std::atomic<bool> go{false};
    cache.request(0, QString(), [&go](const AsyncCache<int, int>::Deliver& deliver) {
      while (!go.load()) QThread::msleep(1);
      deliver(std::make_shared<const int>(7), true);
    });
    ++generation;  // new input while the job runs
    cache.clear();
    go = true;
    QTRY_COMPARE(finished, 1);
    QCoreApplication::processEvents();
    QCOMPARE(readyCount, 0);
    QVERIFY(!cache.contains(0));
  }

  void latestJobComputesOnlyTheLatestRequest() {
    QObject context;
    QThreadPool pool;
    pool.setMaxThreadCount(1);
    quint64 generation = 0;
    QList<int> delivered;
    LatestJob<int, int> job(&context, &pool, &generation, {}, false,
                            {[&](const int& r, const int& v) { delivered << r * 1000 + v; }, {}, {}});
    std::atomic<bool> go{false};
    std::atomic<int> runs{0};
    auto compute = [&](const int& r) {
      ++runs;
      while (r == 1 && !go.load()) QThread::msleep(1);
      return r;
    };
    job.request(1, compute);
    job.request(2, compute);  // waits, then replaced
    job.request(3, compute);
    go = true;
    QTRY_COMPARE(delivered.size(), 2);
    QCOMPARE(delivered, (QList<int>{1001, 3003}));
    QCOMPARE(runs.load(), 2);
  }

  void tabsAreNamedAndTheTreeEmitsSelectionIntent() {
    TestWindow win(kTimeout);
    MainWindow& w = win.w;
    QCOMPARE(w.tabs()->count(), 3);
    QCOMPARE(w.tabs()->tabText(int(MainWindow::Tab::Head)), QStringLiteral("Head"));
    QCOMPARE(w.tabs()->tabText(int(MainWindow::Tab::Layers)), QStringLiteral("Layers"));
    QCOMPARE(w.tabs()->tabText(int(MainWindow::Tab::Position)), QStringLiteral("Position"));
    w.showTab(MainWindow::Tab::Position);
    QCOMPARE(w.tabs()->currentIndex(), 2);
    w.showTab(MainWindow::Tab::Head);

    QVERIFY(win.open(kOperatorFile));
    auto* tree = qobject_cast<LayerTree*>(w.layerTree());
    QVERIFY(tree);
    QCOMPARE(w.selection()->layer(), 0);
    QCOMPARE(w.selection()->head(), 0);
    QSignalSpy heads(tree, &LayerTree::headRequested);
    QSignalSpy totals(tree, &LayerTree::layerTotalRequested);
    tree->setCurrentItem(tree->itemFor(0, 1, 1, false, false));
    QCOMPARE(heads.count(), 1);
    QCOMPARE(heads.first().at(1).toInt(), 1);
    QCOMPARE(w.selection()->head(), 1);
    tree->setCurrentItem(tree->itemFor(0, 0, 1, true, true));
    QCOMPARE(totals.count(), 1);
    QVERIFY(w.selection()->isLayerTotal());
    // The selection set elsewhere moves the tree's current item without new intent.
    w.selectHead(0, 0);
    QCOMPARE(tree->currentItem(), tree->itemFor(0, 0, 0, false, false));
    QCOMPARE(heads.count(), 1);
  }
};

QTEST_MAIN(TestGuiStructure)
#include "test_gui_structure.moc"
