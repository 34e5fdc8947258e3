// MQAR trainer (ess/train.h): a short run lowers the loss and writes a loadable checkpoint;
// bad options are usage errors; cancel stops without writing.
#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <numeric>

#include <nlohmann/json.hpp>

#include "cli_flag.h"
#include "ess/error.h"
#include "ess/model.h"
#include "ess/mqar.h"
#include "ess/train.h"
// Qt after LibTorch: Qt's `slots` macro clashes with torch/jit headers.
#include <QTemporaryDir>
#include <QtTest>

using namespace ess;

namespace {

TrainOptions tiny() {
  TrainOptions o;
  o.mixers = {"softmax_attention", "gla"};
  o.dModel = 32;
  o.heads = 2;
  o.steps = 30;
  o.batch = 16;
  o.lr = 3e-3;
  o.length = 32;
  o.pairs = 4;
  o.vocab = 32;
  o.evalSamples = 50;
  o.logEvery = 1;
  o.seed = 1;
  return o;
}

}  // namespace

class TestTrain : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void smoke() {
    QTemporaryDir tmp;
    const std::string dir = (tmp.path() + "/run").toStdString();
    std::vector<double> losses;
    TrainReport r = trainMqar(tiny(), dir, [&](int step, double loss) {
      QCOMPARE(step, int(losses.size()) + 1);
      losses.push_back(loss);
    });
    QCOMPARE(int(losses.size()), 30);
    QCOMPARE(r.steps, 30);
    QCOMPARE(r.initialLoss, losses.front());
    const double first = std::accumulate(losses.begin(), losses.begin() + 5, 0.0) / 5;
    const double last = std::accumulate(losses.end() - 5, losses.end(), 0.0) / 5;
    QVERIFY2(last < first, qPrintable(QString("first %1 last %2").arg(first).arg(last)));
    QVERIFY(r.finalLoss < r.initialLoss);
    QVERIFY(r.heldOutAccuracy >= 0.0 && r.heldOutAccuracy <= 1.0);
    QVERIFY(r.seconds > 0);
    // Checkpoint and report.
    QVERIFY(std::filesystem::exists(dir + "/train_report.json"));
    std::ifstream in(dir + "/train_report.json");
    const auto j = nlohmann::json::parse(in);
    QCOMPARE(j["held_out_accuracy"].get<double>(), r.heldOutAccuracy);
    auto m = loadEssLm(dir);
    QCOMPARE(m->numLayers(), 2);
    QCOMPARE(QString::fromStdString(m->mixerKind(0)), QString("softmax_attention"));
    QCOMPARE(QString::fromStdString(m->mixerKind(1)), QString("gla"));
    // The saved weights give the reported held-out accuracy.
    MqarSpec spec{1, 32, 4, 32};
    const double acc = mqarAccuracy(*m, spec, 20);
    QVERIFY(acc >= 0.0 && acc <= 1.0);
  }

  void singleKindRepeats() {
    TrainOptions o = tiny();
    o.mixers = {"linear_attention"};
    o.layers = 3;
    o.steps = 2;
    o.evalSamples = 4;
    QTemporaryDir tmp;
    const std::string dir = (tmp.path() + "/lin").toStdString();
    trainMqar(o, dir);
    auto m = loadEssLm(dir);
    QCOMPARE(m->numLayers(), 3);
    QCOMPARE(QString::fromStdString(m->mixerKind(2)), QString("linear_attention"));
  }

  // Per-kind sizes reach config.json and the loaded model.
  void perKindSizesSaved() {
    TrainOptions o = tiny();
    o.mixers = {"sliding_window_attention", "short_conv"};
    o.steps = 2;
    o.evalSamples = 4;
    o.window = 8;
    o.convKernel = 3;
    o.stateSize = 5;
    o.filterLength = 12;
    QTemporaryDir tmp;
    const std::string dir = (tmp.path() + "/sizes").toStdString();
    trainMqar(o, dir);
    std::ifstream in(dir + "/config.json");
    const auto j = nlohmann::json::parse(in);
    QCOMPARE(j["window"].get<int>(), 8);
    QCOMPARE(j["conv_kernel"].get<int>(), 3);
    QCOMPARE(j["state_size"].get<int>(), 5);
    QCOMPARE(j["filter_length"].get<int>(), 12);
    auto m = loadEssLm(dir);
    QCOMPARE(m->config().window, 8);
    QCOMPARE(m->config().convKernel, 3);
    QCOMPARE(m->config().stateSize, 5);
    QCOMPARE(m->config().filterLength, 12);
    // The short_conv layer really has a kernel of 3 taps.
    const auto w = m->stateDict();
    QVERIFY(w.find("layers.1.mixer.conv.weight"));
    QCOMPARE(w.find("layers.1.mixer.conv.weight")->size(1), int64_t(3));
    // Window 8 makes the sliding-window operator zero more than 7 positions back.
    MqarSpec spec{3, 32, 4, 32};
    const auto toks = makeMqar(spec).tokens;
    auto T = m->layerOperator(0, at::tensor(std::vector<int64_t>(toks.begin(), toks.end()), at::kLong));  // [H, L, L]
    QCOMPARE(T.select(1, 20).narrow(1, 0, 13).abs().max().item<double>(), 0.0);
    QVERIFY(T.select(1, 20).narrow(1, 13, 8).abs().max().item<double>() > 0.0);
    // Unset filter length means the sequence length.
    o.mixers = {"hyena"};
    o.layers = 1;
    o.filterLength = 0;
    const std::string dir2 = (tmp.path() + "/hyena").toStdString();
    trainMqar(o, dir2);
    QCOMPARE(loadEssLm(dir2)->config().filterLength, 32);
  }

  // mamba's sizes (expand, dt_rank, with state_size and conv_kernel) reach config.json, and
  // the defaults of TrainOptions are the registry's (key shift on, filter_length 0 = length).
  void mambaSizesSaved() {
    TrainOptions d;
    QVERIFY(d.keyShift);
    QCOMPARE(d.filterLength, 0);
    QCOMPARE(d.expand, 2);
    QCOMPARE(d.dtRank, 0);
    TrainOptions o = tiny();
    o.mixers = {"mamba"};
    o.layers = 1;
    o.steps = 1;
    o.evalSamples = 4;
    o.expand = 1;
    o.dtRank = 3;
    o.stateSize = 4;
    o.convKernel = 2;
    QTemporaryDir tmp;
    const std::string dir = (tmp.path() + "/mamba").toStdString();
    trainMqar(o, dir);
    auto m = loadEssLm(dir);
    QCOMPARE(m->config().expand, 1);
    QCOMPARE(m->config().dtRank, 3);
    const auto w = m->stateDict();
    QCOMPARE(w.find("layers.0.mixer.dt_proj.weight")->sizes().vec(), (std::vector<int64_t>{32, 3}));
    QCOMPARE(w.find("layers.0.mixer.conv1d.weight")->size(2), int64_t(2));
    std::ifstream in(dir + "/train_report.json");
    const auto j = nlohmann::json::parse(in);
    QCOMPARE(j["options"]["expand"].get<int>(), 1);
    QCOMPARE(j["options"]["dt_rank"].get<int>(), 3);
  }

  void badOptions() {
    auto expectUsage = [](TrainOptions o, const char* part) {
      try {
        trainMqar(o, "");
        QFAIL("expected UsageError");
      } catch (const UsageError& e) {
        QVERIFY2(ess::cli::cliMessage(e).find(part) != std::string::npos, ess::cli::cliMessage(e).c_str());
      }
    };
    TrainOptions o = tiny();
    o.mixers = {"softmax_attention", "transformerx"};
    expectUsage(o, "transformerx");
    o = tiny();
    o.dModel = 30;
    o.heads = 4;
    expectUsage(o, "--heads");
    o = tiny();
    o.pairs = 20;
    expectUsage(o, "len");
    o = tiny();
    o.steps = 0;
    expectUsage(o, "--steps");
    o = tiny();
    o.lr = -1;
    expectUsage(o, "--lr");
    o = tiny();
    o.window = 0;
    expectUsage(o, "--window");
    o = tiny();
    o.convKernel = -2;
    expectUsage(o, "--conv-kernel");
    o = tiny();
    o.stateSize = 0;
    expectUsage(o, "--state-size");
    o = tiny();
    o.filterLength = -1;
    expectUsage(o, "--filter-length");
    // Every registered option is checked, by its flag.
    o = tiny();
    o.expand = 0;
    expectUsage(o, "--expand must be at least 1");
    o = tiny();
    o.dtRank = -1;
    expectUsage(o, "--dt-rank must be at least 0");
  }

  void cancelWritesNothing() {
    QTemporaryDir tmp;
    const std::string dir = (tmp.path() + "/cancelled").toStdString();
    std::atomic<bool> cancel{true};
    bool threw = false;
    try {
      trainMqar(tiny(), dir, {}, &cancel);
    } catch (const Cancelled&) {
      threw = true;
    }
    QVERIFY(threw);
    QVERIFY(!std::filesystem::exists(dir));
  }
};

QTEST_APPLESS_MAIN(TestTrain)
#include "test_train.moc"
