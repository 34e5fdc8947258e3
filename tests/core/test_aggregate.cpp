// Tests of the ESS aggregates (ess/aggregate.h, docs/definitions.md section 1): totals over heads in
// MIMO units (each head times its value channels), total TSS and utilization, NaN TSS,
// mean / max / final over splits, channel groups, and the units of a linear-attention layer
// against a short-convolution layer of a real ess-lm checkpoint.
#include <ATen/ATen.h>

#include <QtTest>

#include <QTemporaryDir>
#include <cmath>
#include <limits>

#include "ess/aggregate.h"
#include "ess/error.h"
#include "ess/model.h"
#include "ess/session.h"

using namespace ess;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

// Two heads, three splits, hand-made numbers.
CurveData twoHeads() {
  CurveData c;
  c.layer = 1;
  c.length = 4;
  c.splits = {1, 2, 3};
  c.tolerance = {{1, 2, 3}, {2, 2, 0}};
  c.entropy = {{0.5, 1.5, 2}, {1, 1, 0.25}};
  c.tss = {{4, 4, 4}, {4, 4, 4}};
  return c;
}

LayerSummary layerWith(int heads, int valueChannels) {
  LayerSummary l;
  l.index = 1;
  l.mixer = "test";
  l.heads = heads;
  l.valueChannels = valueChannels;
  return l;
}

bool close(double a, double b) { return std::abs(a - b) <= 1e-12 * std::max(1.0, std::abs(b)); }

}  // namespace

class TestAggregate : public QObject {
  Q_OBJECT
 private slots:
  void totalsMultiplyByValueChannels() {
    // d_v = 3: total = 3 * (head 0 + head 1) at every split.
    const HeadTotal t = layerTotal(twoHeads(), layerWith(2, 3));
    QCOMPARE(t.layer, 1);
    QCOMPARE(t.heads, std::vector<int>({0, 1}));
    QCOMPARE(t.valueChannels, 3);
    QCOMPARE(t.splits, std::vector<int>({1, 2, 3}));
    QCOMPARE(t.tolerance, std::vector<double>({9, 12, 9}));
    QCOMPARE(t.entropy, std::vector<double>({4.5, 7.5, 6.75}));
    QCOMPARE(t.tss, std::vector<double>({24, 24, 24}));
    QCOMPARE(t.utilization, std::vector<double>({0.375, 0.5, 0.375}));
    QVERIFY(close(t.entropyUtilization[2], 6.75 / 24));
    QCOMPARE(t.toleranceSummary.mean, 10.0);
    QCOMPARE(t.toleranceSummary.max, 12.0);
    QCOMPARE(t.toleranceSummary.final, 9.0);
    QVERIFY(close(t.entropySummary.mean, (4.5 + 7.5 + 6.75) / 3));
    QCOMPARE(t.entropySummary.max, 7.5);
    QCOMPARE(t.tssSummary.mean, 24.0);
    QVERIFY(close(t.utilizationSummary.mean, 1.25 / 3));
    QCOMPARE(t.utilizationSummary.max, 0.5);
    QCOMPARE(t.utilizationSummary.final, 0.375);

    // A subset: head 1 alone, d_v = 1.
    const HeadTotal one = sumHeads(twoHeads(), layerWith(2, 1), {1});
    QCOMPARE(one.tolerance, std::vector<double>({2, 2, 0}));
    QCOMPARE(one.utilization, std::vector<double>({0.5, 0.5, 0}));
    QCOMPARE(one.toleranceSummary.final, 0.0);
    // Heads are summed once each, in order, whatever the caller's order.
    QCOMPARE(sumHeads(twoHeads(), layerWith(2, 1), {1, 0, 1}).heads, std::vector<int>({0, 1}));
  }

  void unknownTssGivesNaN() {
    CurveData c = twoHeads();
    c.tss[1][0] = kNaN;  // head 1's TSS unknown at split 1
    const HeadTotal t = layerTotal(c, layerWith(2, 3));
    QVERIFY(std::isnan(t.tss[0]));
    QCOMPARE(t.tss[1], 24.0);
    QVERIFY(std::isnan(t.utilization[0]));
    QCOMPARE(t.utilization[1], 0.5);
    // Summaries skip the unknown split.
    QCOMPARE(t.tssSummary.mean, 24.0);
    QVERIFY(close(t.utilizationSummary.mean, (0.5 + 0.375) / 2));
    QCOMPARE(t.toleranceSummary.mean, 10.0);  // ESS itself is known everywhere

    // An operator file: no TSS at all.
    for (auto& row : c.tss) row.assign(3, kNaN);
    const HeadTotal u = layerTotal(c, layerWith(2, 1));
    QVERIFY(std::isnan(u.tssSummary.mean) && std::isnan(u.tssSummary.max) && std::isnan(u.tssSummary.final));
    QVERIFY(std::isnan(u.utilizationSummary.mean));
    QCOMPARE(u.toleranceSummary.max, 4.0);

    // TSS 0 (a short convolution of kernel 1): utilization is undefined, not infinite.
    for (auto& row : c.tss) row.assign(3, 0.0);
    QVERIFY(std::isnan(layerTotal(c, layerWith(2, 1)).utilization[1]));
  }

  void headSummaries() {
    CurveData c = twoHeads();
    c.tss[0] = {2, 4, kNaN};
    const std::vector<HeadSummary> s = summarizeHeads(c);
    QCOMPARE(int(s.size()), 2);
    QCOMPARE(s[0].head, 0);
    QCOMPARE(s[0].tolerance.mean, 2.0);
    QCOMPARE(s[0].tolerance.max, 3.0);
    QCOMPARE(s[0].tolerance.final, 3.0);
    QCOMPARE(s[0].tss.mean, 3.0);
    QVERIFY(std::isnan(s[0].tss.final));
    QCOMPARE(s[0].utilization.mean, 0.5);  // 1/2 and 2/4; the last split has no TSS
    QCOMPARE(s[1].entropy.mean, 0.75);
    QCOMPARE(s[1].entropy.final, 0.25);
  }

  void badHeadsAreUsageErrors() {
    QVERIFY_THROWS_EXCEPTION(UsageError, sumHeads(twoHeads(), layerWith(2, 1), {}));
    QVERIFY_THROWS_EXCEPTION(UsageError, sumHeads(twoHeads(), layerWith(2, 1), {0, 2}));
    QVERIFY_THROWS_EXCEPTION(UsageError, summarizeHead(twoHeads(), -1));
    CurveData ragged = twoHeads();
    ragged.entropy[1].pop_back();
    QVERIFY_THROWS_EXCEPTION(UsageError, layerTotal(ragged, layerWith(2, 1)));
  }

  void channelGroupsCoverEveryChannelOnce() {
    QCOMPARE(defaultGroupSize(128), 8);
    QCOMPARE(defaultGroupSize(64), 4);
    QCOMPARE(defaultGroupSize(16), 1);
    QCOMPARE(defaultGroupSize(100), 7);
    QCOMPARE(defaultGroupSize(3), 1);

    std::vector<ChannelGroup> g = channelGroups(128);
    QCOMPARE(int(g.size()), 16);
    QCOMPARE(g[0].label, std::string("channels 0-7"));
    QCOMPARE(g[15].label, std::string("channels 120-127"));
    QCOMPARE(g[15].members(), std::vector<int>({120, 121, 122, 123, 124, 125, 126, 127}));

    g = channelGroups(100);
    QCOMPARE(int(g.size()), 15);
    QCOMPARE(g[14].first, 98);
    QCOMPARE(g[14].last, 99);
    QCOMPARE(g[14].size(), 2);

    g = channelGroups(5, 2, 16, "heads");
    QCOMPARE(int(g.size()), 3);
    QCOMPARE(g[1].label, std::string("heads 2-3"));
    QCOMPARE(g[2].label, std::string("head 4"));
    QVERIFY(channelGroups(0).empty());

    // Every channel exactly once, in order.
    for (int count : {1, 17, 64, 127, 128, 1000}) {
      int next = 0;
      for (const ChannelGroup& c : channelGroups(count)) {
        QCOMPARE(c.first, next);
        next = c.last + 1;
      }
      QCOMPARE(next, count);
      QVERIFY(int(channelGroups(count).size()) <= 16);
    }
  }

  void meanAbsOfAGroup() {
    OperatorData op;
    op.heads = 3;
    op.length = 2;
    op.values = {1, 0, -2, 3, /* head 1 */ -3, 0, 4, 1, /* head 2 */ 100, 100, 100, 100};
    QCOMPARE(meanAbsOperator(op, {0, 1}), std::vector<double>({2, 0, 3, 2}));
    QCOMPARE(meanAbsOperator(op, {2}), std::vector<double>({100, 100, 100, 100}));
    QVERIFY_THROWS_EXCEPTION(UsageError, meanAbsOperator(op, {3}));
  }

  // A real checkpoint: linear attention (2 heads, d_k = d_v = 32) beside a short convolution
  // (64 channels, kernel 4). The layer totals come out in the units of docs/definitions.md section 1.
  void unitsOfLinearAttentionAndShortConv() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    ModelConfig cfg;
    cfg.vocabSize = 32;
    cfg.dModel = 64;
    cfg.numHeads = 2;
    cfg.maxLength = 24;
    cfg.mlpHidden = 64;
    cfg.mixers = {"linear_attention", "short_conv"};
    cfg.convKernel = 4;
    EssLm model(cfg, 3);
    saveEssLm(model, dir.path().toStdString());
    auto session = Session::open(dir.path().toStdString());
    session->setInput("random:seed=1,len=24");
    const SourceInfo& info = session->info();
    QCOMPARE(info.layers[0].heads, 2);
    QCOMPARE(info.layers[0].valueChannels, 32);
    QCOMPARE(info.layers[1].heads, 64);
    QCOMPARE(info.layers[1].valueChannels, 1);

    const CurveData la = session->curve(0, EssOptions());
    const HeadTotal tla = layerTotal(la, info.layers[0]);
    const CurveData sc = session->curve(1, EssOptions());
    const HeadTotal tsc = layerTotal(sc, info.layers[1]);
    for (size_t i = 0; i < la.splits.size(); ++i) {
      // Linear attention: per head SISO TSS d_k = 32, total 2 * 32 * 32 = 2048.
      QCOMPARE(la.tss[0][i], 32.0);
      QCOMPARE(tla.tss[i], 2048.0);
      QCOMPARE(tla.tolerance[i], 32.0 * (la.tolerance[0][i] + la.tolerance[1][i]));
      QVERIFY(close(tla.entropy[i], 32.0 * (la.entropy[0][i] + la.entropy[1][i])));
      QVERIFY(tla.tolerance[i] <= tla.tss[i]);
      QVERIFY(close(tla.utilization[i], tla.tolerance[i] / 2048.0));
      // short_conv: per channel k - 1 = 3, total 64 * 3 = 192; a channel's rank is at most 3.
      QCOMPARE(tsc.tss[i], 192.0);
      double sum = 0;
      for (int c = 0; c < 64; ++c) {
        QVERIFY(sc.tolerance[c][i] <= 3);
        sum += sc.tolerance[c][i];
      }
      QCOMPARE(tsc.tolerance[i], sum);
      QVERIFY(tsc.tolerance[i] > 0 && tsc.tolerance[i] <= 192);
    }
    QVERIFY(tsc.utilizationSummary.mean > 0 && tsc.utilizationSummary.mean <= 1);
    QVERIFY(tla.utilizationSummary.mean > 0 && tla.utilizationSummary.mean <= 1);
  }
};

QTEST_GUILESS_MAIN(TestAggregate)
#include "test_aggregate.moc"
