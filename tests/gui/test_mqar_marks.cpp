// MQAR marks in the Position view: the key, value and query positions the view marks are the
// sampler's own (ess::makeMqar for a fixed seed: keys and values of the prefix, queries where a
// target is scored), through the shared view code that `ess render --figure position` uses and
// through the main window on the bundled demo; the axis shows each position index under its
// token id, the hover names the role, the legend lies outside the plot, and another input
// clears the marks.
#include <QDir>
#include <QSignalSpy>
#include <QtTest>
#include <algorithm>

#include "document.h"
#include "ess/mqar_sample.h"
#include "gui_test_helpers.h"
#include "main_window.h"
#include "position_ess_view.h"
#include "view_data.h"

namespace {

const QString kDemoDir = qEnvironmentVariable("ESS_DEMO_CHECKPOINT", QStringLiteral(ESS_DEMO_DIR "/hybrid"));
constexpr int kTimeout = 120000;

QVector<int> toQt(const std::vector<int>& v) { return QVector<int>(v.begin(), v.end()); }

/// The sampler's positions of each role, read off the sample itself.
struct Expected {
  QVector<int> keys, values, queries;
};
Expected fromSample(const ess::MqarSpec& spec) {
  const ess::MqarSample s = ess::makeMqar(spec);
  Expected e;
  for (int i = 0; i < spec.length; ++i) {
    if (s.targets[i] != ess::kMqarIgnore) e.queries << i;
    // The prefix k1 v1 ... kP vP: keys below V/2, values at or above it.
    if (i < 2 * spec.pairs) (s.tokens[i] < spec.vocab / 2 ? e.keys : e.values) << i;
  }
  return e;
}

}  // namespace

class TestMqarMarks : public QObject {
  Q_OBJECT
 private slots:
  void rolesAreTheSamplersPositions() {
    for (uint64_t seed : {0u, 3u, 11u}) {
      const ess::MqarSpec spec{seed, 48, 6, 64};
      const ess::MqarRoles roles = ess::mqarRoles(spec);
      const Expected e = fromSample(spec);
      QCOMPARE(toQt(roles.keys), e.keys);
      QCOMPARE(toQt(roles.values), e.values);
      QCOMPARE(toQt(roles.queries), e.queries);
      QCOMPARE(int(roles.queries.size()), spec.pairs);  // each key is queried once
      // At a query the key of some pair reappears; its value follows when it fits.
      const ess::MqarSample s = ess::makeMqar(spec);
      for (int q : roles.queries) {
        const auto k = std::find(s.tokens.begin(), s.tokens.begin() + 2 * spec.pairs, s.tokens[q]);
        QVERIFY(k != s.tokens.begin() + 2 * spec.pairs);
        QCOMPARE(s.targets[q], *(k + 1));
        if (q + 1 < spec.length) QCOMPARE(s.tokens[q + 1], *(k + 1));
      }
    }
  }

  void specsOfOtherKindsHaveNoRoles() {
    ess::MqarSpec m;
    QVERIFY(ess::mqarSpecOf("mqar:seed=3,len=32,pairs=4", 64, 64, &m));
    QCOMPARE(int(m.seed), 3);
    QCOMPARE(m.length, 32);
    QCOMPARE(m.pairs, 4);
    QCOMPARE(m.vocab, 64);
    QVERIFY(ess::mqarSpecOf("mqar:", 100, 40, &m));  // the defaults of tokensFromSpec
    QCOMPARE(m.length, 40);
    QCOMPARE(m.pairs, 5);
    QCOMPARE(m.vocab, 100);
    QVERIFY(!ess::mqarSpecOf("tokens:1,2,3", 64, 64, &m));
    QVERIFY(!ess::mqarSpecOf("text:mqar:", 64, 64, &m));
    QVERIFY_THROWS_EXCEPTION(std::exception, ess::mqarSpecOf("mqar:len=x", 64, 64, &m));
  }

  // The shared view code (what `ess render --figure position` calls).
  void sharedViewCodeMarksTheRoles() {
    ess::SourceInfo info;
    info.needsInput = true;
    info.vocabSize = 64;
    info.maxLength = 64;
    PositionEssView view;
    viewdata::markMqarRoles(view, "mqar:seed=5,len=40,pairs=5", info);
    const Expected e = fromSample({5, 40, 5, 64});
    QCOMPARE(view.keyPositions(), e.keys);
    QCOMPARE(view.valuePositions(), e.values);
    QCOMPARE(view.queryPositions(), e.queries);
    QCOMPARE(view.roleAt(e.queries.first()), QStringLiteral("query"));
    QCOMPARE(view.roleAt(0), QStringLiteral("key"));
    QCOMPARE(view.roleAt(1), QStringLiteral("value"));
    viewdata::markMqarRoles(view, "tokens:1,2,3", info);
    QVERIFY(!view.hasPositionRoles());
    info.needsInput = false;  // an operator file
    viewdata::markMqarRoles(view, "mqar:seed=5,len=40,pairs=5", info);
    QVERIFY(!view.hasPositionRoles());
  }

  void positionTabMarksTheDemoInput() {
    if (!QDir(kDemoDir).exists()) QSKIP("no bundled demo checkpoint (resources/demo/hybrid)");
    TestWindow win(kTimeout);
    MainWindow& w = win.w;
    QVERIFY(win.open(kDemoDir));
    QVERIFY(win.setInput(QStringLiteral("mqar:seed=3,len=32,pairs=4")));
    w.showTab(MainWindow::Tab::Position);
    PositionEssView* v = w.positionView();
    QTRY_VERIFY_WITH_TIMEOUT(v->rowCount() == 1 && v->tokens().size() == 32, kTimeout);
    const Expected e = fromSample({3, 32, 4, w.document()->info().vocabSize});
    QCOMPARE(v->keyPositions(), e.keys);
    QCOMPARE(v->valuePositions(), e.values);
    QCOMPARE(v->queryPositions(), e.queries);
    // The tokens are the sample's ids, each labelled with its position index below.
    const ess::MqarSample sample = ess::makeMqar({3, 32, 4, w.document()->info().vocabSize});
    for (int i = 0; i < 32; ++i) QCOMPARE(v->tokens()[i], QString::number(sample.tokens[i]));
    v->replot();
    const QVector<int> shown = v->visibleLabelPositions();
    QVERIFY(!shown.isEmpty());
    auto* ticker = static_cast<QCPAxisTickerText*>(v->xAxis->ticker().data());
    for (int i : shown)
      QCOMPARE(ticker->ticks().value(i + 0.5),
               QString::number(sample.tokens[i]) + QLatin1Char('\n') + QString::number(i));
    // Redrawn (another split, the tab again) the legend keeps one entry per role.
    w.showTab(MainWindow::Tab::Head);
    w.showTab(MainWindow::Tab::Position);
    v->setRows(v->rows(), v->tokens(), v->title());
    v->replot();
    // The legend names the roles and lies outside every plot, so it hides no data.
    QStringList names;
    for (int i = 0; i < v->legend->itemCount(); ++i)
      if (auto* item = qobject_cast<QCPPlottableLegendItem*>(v->legend->item(i))) names << item->plottable()->name();
    QVERIFY2(names.contains("MQAR key") && names.contains("MQAR value") && names.contains("MQAR query"),
             qPrintable(names.join(',')));
    QCOMPARE(names.size(), 5);  // tolerance-ESS, entropy-ESS and the three roles, each once
    QCOMPARE(v->legend->itemCount(), 5);
    QVERIFY(v->legend->visible());
    QVERIFY(!v->legend->outerRect().intersects(v->axisRect()->rect()));
    // Another kind of input: no marks.
    QVERIFY(win.setInput(QStringLiteral("tokens:1,2,3,4,5,6,7,8")));
    QTRY_VERIFY_WITH_TIMEOUT(v->rowCount() == 1 && v->tokens().size() == 8, kTimeout);
    QVERIFY(!v->hasPositionRoles());
    QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
  }
};

QTEST_MAIN(TestMqarMarks)
#include "test_mqar_marks.moc"
