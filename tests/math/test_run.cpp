// ess/run.h: Hugging Face Trainer runs, ess-lm runs and lists of checkpoints, ordered by step,
// with their logged metrics; bad runs give one message naming the file.
#include <QtTest>

#include <QTemporaryDir>
#include <filesystem>
#include <fstream>
#include <string>

#include "ess/error.h"
#include "ess/run.h"

namespace {

namespace fs = std::filesystem;

template <class F>
std::string inputError(F fn) {
  try {
    fn();
  } catch (const ess::InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

void writeText(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string dirOf(const QTemporaryDir& d) { return d.path().toStdString(); }

}  // namespace

class TestRun : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void hfTrainerRunByStepWithLogHistory() {
    QTemporaryDir dir;
    const std::string root = dirOf(dir);
    for (const char* c : {"checkpoint-1000", "checkpoint-500", "checkpoint-20", "runs", "checkpoint-x"})
      fs::create_directory(root + "/" + c);
    // The latest checkpoint's state holds the whole history (train and eval entries per step).
    writeText(root + "/checkpoint-1000/trainer_state.json",
              R"({"global_step": 1000, "log_history": [
                   {"epoch": 0.1, "loss": 2.5, "learning_rate": 0.001, "step": 20},
                   {"epoch": 0.5, "loss": 1.25, "step": 500},
                   {"epoch": 0.5, "eval_loss": 1.5, "eval_accuracy": 0.25, "step": 500},
                   {"train_runtime": 12.5, "step": 1000, "note": "text is skipped"}]})");
    writeText(root + "/checkpoint-500/trainer_state.json", R"({"log_history": []})");
    const ess::TrainingRun run = ess::openTrainingRun(root);
    QCOMPARE(run.kind, std::string("hf-trainer"));
    QCOMPARE(run.checkpoints.size(), size_t(3));
    QCOMPARE(run.checkpoints[0].name, std::string("checkpoint-20"));
    QCOMPARE(run.checkpoints[0].step, int64_t(20));
    QCOMPARE(run.checkpoints[1].step, int64_t(500));
    QCOMPARE(run.checkpoints[2].step, int64_t(1000));
    QCOMPARE(run.checkpoints[2].path, root + "/checkpoint-1000");
    QVERIFY2(run.metricsNote.empty(), run.metricsNote.c_str());
    QCOMPARE(run.metrics.size(), size_t(3));
    QCOMPARE(run.metrics[0].step, int64_t(20));
    QCOMPARE(run.metrics[0].values.at("loss"), 2.5);
    QCOMPARE(run.metrics[0].values.at("learning_rate"), 0.001);
    QCOMPARE(run.metrics[1].values.at("loss"), 1.25);
    QCOMPARE(run.metrics[1].values.at("eval_loss"), 1.5);
    QCOMPARE(run.metrics[1].values.at("eval_accuracy"), 0.25);
    QCOMPARE(run.metrics[2].values.count("note"), size_t(0));
    const std::vector<std::string> names = run.metricNames();
    QCOMPARE(names, (std::vector<std::string>{"epoch", "eval_accuracy", "eval_loss", "learning_rate", "loss",
                                              "train_runtime"}));
  }

  void hfTrainerStateThatDoesNotParseOpensWithoutMetrics() {
    QTemporaryDir dir;
    const std::string root = dirOf(dir);
    fs::create_directory(root + "/checkpoint-10");
    writeText(root + "/checkpoint-10/trainer_state.json", "{\"log_history\": [");
    const ess::TrainingRun run = ess::openTrainingRun(root);
    QCOMPARE(run.checkpoints.size(), size_t(1));
    QVERIFY(run.metrics.empty());
    QVERIFY2(contains(run.metricsNote, root + "/checkpoint-10/trainer_state.json: not valid JSON (") &&
                 contains(run.metricsNote, "the run has no metrics"),
             run.metricsNote.c_str());
    // No state at all: said too.
    QTemporaryDir bare;
    fs::create_directory(dirOf(bare) + "/checkpoint-3");
    const ess::TrainingRun b = ess::openTrainingRun(dirOf(bare));
    QVERIFY2(contains(b.metricsNote, "no trainer_state.json"), b.metricsNote.c_str());
  }

  void essLmRunWithMetricsJsonl() {
    QTemporaryDir dir;
    const std::string root = dirOf(dir);
    for (const char* c : {"step-10", "step-2", "step-100"}) fs::create_directory(root + "/" + c);
    writeText(root + "/metrics.jsonl",
              "{\"step\": 2, \"loss\": 3.0, \"accuracy\": 0.125}\n\n{\"step\": 10, \"loss\": 2.0, \"accuracy\": "
              "0.5}\n{\"step\": 100, \"loss\": 0.5, \"accuracy\": 1}\n");
    const ess::TrainingRun run = ess::openTrainingRun(root);
    QCOMPARE(run.kind, std::string("ess-lm"));
    QCOMPARE(run.checkpoints.size(), size_t(3));
    QCOMPARE(run.checkpoints[0].name, std::string("step-2"));
    QCOMPARE(run.checkpoints[1].name, std::string("step-10"));
    QCOMPARE(run.checkpoints[2].name, std::string("step-100"));
    QCOMPARE(run.metrics.size(), size_t(3));
    QCOMPARE(run.metrics[1].values.at("accuracy"), 0.5);
    QCOMPARE(run.metrics[2].values.at("accuracy"), 1.0);
    QVERIFY(run.metricsNote.empty());

    // A bad line keeps the lines before it and names the file and line.
    writeText(root + "/metrics.jsonl", "{\"step\": 2, \"loss\": 3.0}\n{\"step\": 10, \"lo");
    const ess::TrainingRun cut = ess::openTrainingRun(root);
    QCOMPARE(cut.metrics.size(), size_t(1));
    QVERIFY2(contains(cut.metricsNote, root + "/metrics.jsonl: line 2: not valid JSON"), cut.metricsNote.c_str());
    writeText(root + "/metrics.jsonl", "[1, 2]\n");
    QVERIFY(contains(ess::openTrainingRun(root).metricsNote, "line 1: expected an object with an integer \"step\""));
  }

  void listFileWithAndWithoutSteps() {
    QTemporaryDir dir;
    const std::string root = dirOf(dir);
    for (const char* c : {"a", "b b", "step-7"}) fs::create_directory(root + "/" + c);
    writeText(root + "/run.txt", "# my run\nb b 300\n" + root + "/a 100  # absolute\n\nstep-7\n");
    const ess::TrainingRun run = ess::openTrainingRun(root + "/run.txt");
    QCOMPARE(run.kind, std::string("list"));
    QCOMPARE(run.checkpoints.size(), size_t(3));
    QCOMPARE(run.checkpoints[0].step, int64_t(7));  // from the folder name
    QCOMPARE(run.checkpoints[0].path, root + "/step-7");
    QCOMPARE(run.checkpoints[1].name, root + "/a");
    QCOMPARE(run.checkpoints[1].step, int64_t(100));
    QCOMPARE(run.checkpoints[2].name, std::string("b b"));
    QCOMPARE(run.checkpoints[2].path, root + "/b b");
    QCOMPARE(run.checkpoints[2].step, int64_t(300));
    // An entry without a step keeps the listed order.
    writeText(root + "/unordered.txt", "b b 300\na\n");
    const ess::TrainingRun u = ess::openTrainingRun(root + "/unordered.txt");
    QCOMPARE(u.checkpoints[0].name, std::string("b b"));
    QCOMPARE(u.checkpoints[1].step, int64_t(-1));
  }

  void badRunsNameTheFile() {
    QTemporaryDir dir;
    const std::string root = dirOf(dir);
    QVERIFY(
        contains(inputError([&] { ess::openTrainingRun(root + "/nope"); }), root + "/nope: no such file or folder"));
    fs::create_directory(root + "/empty");
    fs::create_directory(root + "/empty/model");
    const std::string none = inputError([&] { ess::openTrainingRun(root + "/empty"); });
    QVERIFY2(contains(none, root + "/empty: holds no checkpoints"), none.c_str());
    writeText(root + "/blank.txt", "# nothing\n\n");
    QVERIFY(contains(inputError([&] { ess::openTrainingRun(root + "/blank.txt"); }),
                     root + "/blank.txt: lists no checkpoints"));
    writeText(root + "/missing.txt", "empty\nghost 5\n");
    const std::string missing = inputError([&] { ess::openTrainingRun(root + "/missing.txt"); });
    QVERIFY2(contains(missing, root + "/missing.txt: line 2: " + root + "/ghost: no such file or folder"),
             missing.c_str());
    writeText(root + "/twice.txt", "empty 5\nempty/model 5\n");
    QVERIFY(contains(inputError([&] { ess::openTrainingRun(root + "/twice.txt"); }), "two checkpoints of step 5"));
    fs::create_directory(root + "/mixed");
    fs::create_directory(root + "/mixed/step-1");
    fs::create_directory(root + "/mixed/checkpoint-1");
    QVERIFY(contains(inputError([&] { ess::openTrainingRun(root + "/mixed"); }), "holds both"));
    writeText(root + "/binary.safetensors", std::string("\x08\0\0\0\0\0\0\0{}", 10));
    QVERIFY(contains(inputError([&] { ess::openTrainingRun(root + "/binary.safetensors"); }),
                     "is not a text file listing checkpoints"));
  }

  void stepFromName() {
    QCOMPARE(ess::stepFromCheckpointName("checkpoint-500"), int64_t(500));
    QCOMPARE(ess::stepFromCheckpointName("step-0"), int64_t(0));
    QCOMPARE(ess::stepFromCheckpointName("step-"), int64_t(-1));
    QCOMPARE(ess::stepFromCheckpointName("step-1a"), int64_t(-1));
    QCOMPARE(ess::stepFromCheckpointName("model"), int64_t(-1));
  }
};

QTEST_GUILESS_MAIN(TestRun)
#include "test_run.moc"
