// `ess sweep` and `ess train-mqar --save-every` through the real binary: a run trained here,
// swept with the numbers of `ess curve`, resumed from its work folder (truncated and damaged
// shards computed again), in parallel, summarized, collected, and submitted to a stand-in
// `sbatch` (the real one-node cluster is tests/cli/slurm_sweep_test.sh).
#include <QtTest>

#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include "cli_test_util.h"

namespace {

using clitest::ess;
using clitest::Run;

const QString kData = QStringLiteral(ESS_TEST_DATA_DIR);
const QString kInput = QStringLiteral("mqar:seed=5,len=16,pairs=2,vocab=16");

Run essWith(const QStringList& args, const QProcessEnvironment& env) {
  QProcess p;
  p.setProcessEnvironment(env);
  p.start(QStringLiteral(ESS_CLI), args);
  if (!p.waitForFinished(600000)) return {};
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardOutput()),
          QString::fromUtf8(p.readAllStandardError())};
}

QString readText(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
}

void writeText(const QString& path, const QByteArray& text) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
  f.write(text);
}

// The fields of one CSV line (double-quoted fields may hold commas).
QStringList csvFields(const QString& line) {
  QStringList out{QString()};
  bool quoted = false;
  for (QChar c : line) {
    if (c == '"')
      quoted = !quoted;
    else if (c == ',' && !quoted)
      out.append(QString());
    else
      out.back() += c;
  }
  return out;
}

// The data lines of a CSV (header dropped).
QStringList dataLines(const QString& csv) {
  QStringList lines = csv.split('\n', Qt::SkipEmptyParts);
  if (!lines.isEmpty()) lines.removeFirst();
  return lines;
}

}  // namespace

class TestCliSweep : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString run_;   // a train-mqar run with step-1/, step-2/, step-3/
  QString list_;  // a list of two operator files

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    run_ = dir_.filePath("run");
    const Run train = ess({"train-mqar", "--mixer",        "gla", "--layers",     "2",  "--d-model", "16", "--steps",
                           "3",          "--batch",        "2",   "--length",     "16", "--pairs",   "2",  "--vocab",
                           "16",         "--eval-samples", "4",   "--save-every", "1",  "--out",     run_});
    QVERIFY2(train.status == 0, qPrintable(train.err));
    list_ = dir_.filePath("operators.txt");
    writeText(list_, (kData + "/gla_d4_L64.safetensors 200\n# a comment\n" + kData +
                      "/softmax_attention_h2_L64.safetensors 100\n")
                         .toUtf8());
  }

  void trainMqarSaveEveryWritesARun() {
    for (const char* step : {"step-1", "step-2", "step-3"}) {
      QVERIFY2(QFile::exists(run_ + "/" + step + "/config.json"), step);
      QVERIFY2(QFile::exists(run_ + "/" + step + "/model.safetensors"), step);
    }
    const QStringList lines = readText(run_ + "/metrics.jsonl").split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 3);
    for (int i = 0; i < 3; ++i) {
      const QJsonObject j = QJsonDocument::fromJson(lines[i].toUtf8()).object();
      QCOMPARE(j["step"].toInt(), i + 1);
      QVERIFY(j["loss"].toDouble() > 0);
      QVERIFY(j["accuracy"].toDouble() >= 0 && j["accuracy"].toDouble() <= 1);
      QVERIFY(j.contains("mean_loss") && j.contains("lr"));
    }
    // The final checkpoint is the run folder itself, as without --save-every.
    QVERIFY(QFile::exists(run_ + "/model.safetensors"));
    const QJsonObject report = QJsonDocument::fromJson(readText(run_ + "/train_report.json").toUtf8()).object();
    QCOMPARE(report["options"].toObject()["save_every"].toInt(), 1);
    const Run bad = ess({"train-mqar", "--mixer", "gla", "--save-every", "-2", "--out", dir_.filePath("never")});
    QCOMPARE(bad.status, 2);
    QVERIFY2(bad.err.contains("--save-every"), qPrintable(bad.err));
  }

  void rowsEqualCurve() {
    const Run sweep = ess({"sweep", run_, "--layer", "all", "--input", kInput, "--splits", "1:15:3"});
    QVERIFY2(sweep.status == 0, qPrintable(sweep.err));
    const QStringList rows = sweep.out.split('\n', Qt::SkipEmptyParts);
    QCOMPARE(rows.value(0), QString("checkpoint,step,input,layer,head,split,tolerance_ess,entropy_ess,tss"));
    // Every checkpoint x layer equals `ess curve` on it, byte for byte after the three run columns.
    int matched = 0;
    for (int step = 1; step <= 3; ++step)
      for (int layer = 0; layer < 2; ++layer) {
        const Run curve = ess({"curve", run_ + "/step-" + QString::number(step), "--layer", QString::number(layer),
                               "--input", kInput, "--splits", "1:15:3"});
        QVERIFY2(curve.status == 0, qPrintable(curve.err));
        const QString lead = "step-" + QString::number(step) + "," + QString::number(step) + ",\"" + kInput + "\",";
        for (const QString& line : dataLines(curve.out)) {
          QVERIFY2(rows.contains(lead + line), qPrintable(lead + line + "\n" + sweep.out));
          ++matched;
        }
      }
    QCOMPARE(matched, rows.size() - 1);
    QVERIFY(matched == 3 * 2 * 2 * 5);  // checkpoints x layers x heads x splits
    // In step order, with the step column.
    QVERIFY(rows.value(1).startsWith("step-1,1,"));
    QVERIFY(rows.last().startsWith("step-3,3,"));
  }

  void headTotalAndInputsAndSummary() {
    const QString other = "mqar:seed=6,len=16,pairs=2,vocab=16";
    const Run sweep = ess(
        {"sweep", run_, "--layer", "1", "--head", "total", "--input", kInput, "--input", other, "--splits", "1:15:7"});
    QVERIFY2(sweep.status == 0, qPrintable(sweep.err));
    const Run curve = ess(
        {"curve", run_ + "/step-2", "--layer", "1", "--aggregate", "total", "--input", other, "--splits", "1:15:7"});
    QVERIFY2(curve.status == 0, qPrintable(curve.err));
    for (QString line : dataLines(curve.out)) {
      line.chop(line.size() - line.lastIndexOf(','));  // ess curve adds the utilization column
      QVERIFY2(sweep.out.contains("step-2,2,\"" + other + "\"," + line + "\n"), qPrintable(line + "\n" + sweep.out));
    }
    QCOMPARE(dataLines(sweep.out).size(), 3 * 2 * 3);  // checkpoints x inputs x splits (1, 8, 15)

    // --summary mean: the mean over splits of each checkpoint, input, layer and head.
    const Run tidy = ess({"sweep", list_});
    const Run mean = ess({"sweep", list_, "--summary", "mean"});
    QVERIFY2(tidy.status == 0 && mean.status == 0, qPrintable(tidy.err + mean.err));
    const QStringList means = mean.out.split('\n', Qt::SkipEmptyParts);
    QCOMPARE(means.value(0), QString("checkpoint,step,input,layer,head,tolerance_ess,entropy_ess,tss"));
    QCOMPARE(means.size(), 1 + 2 + 1);  // softmax (2 heads, step 100) first, then gla (1 head)
    QVERIFY(means[1].contains("softmax_attention_h2_L64.safetensors,100,,0,0,"));
    double sum = 0;
    int n = 0;
    for (const QString& line : dataLines(tidy.out))
      if (line.contains("gla_d4_L64")) {
        sum += line.split(',')[6].toDouble();
        ++n;
      }
    QCOMPARE(n, 63);
    QCOMPARE(means[3].split(',')[5].toDouble(), sum / n);

    const Run json = ess({"sweep", list_, "--summary", "mean", "--format", "json"});
    QVERIFY2(json.status == 0, qPrintable(json.err));
    const QJsonArray jrows = QJsonDocument::fromJson(json.out.toUtf8()).object()["rows"].toArray();
    QCOMPARE(jrows.size(), 3);
    QCOMPARE(jrows[2].toObject()["step"].toInt(), 200);
    QCOMPARE(jrows[2].toObject()["tolerance_ess"].toDouble(), sum / n);
    QVERIFY(jrows[2].toObject()["tss"].isNull());
  }

  void workFolderResumesAndRecomputesBrokenShards() {
    const QString work = dir_.filePath("work");
    const QString out1 = dir_.filePath("r1.csv"), out2 = dir_.filePath("r2.csv");
    const QStringList args = {"sweep", run_, "--input", kInput, "--splits", "1:15:2", "--work", work};
    const Run first = ess(args + QStringList{"-o", out1});
    QVERIFY2(first.status == 0, qPrintable(first.err));
    QVERIFY2(first.err.contains("sweep: 3/3 shard 2 (step-3, " + kInput + ") done"), qPrintable(first.err));
    const QString reference = readText(out1);
    QVERIFY(reference.startsWith("checkpoint,step,"));
    QVERIFY(QFile::exists(work + "/sweep.json"));
    // The same command again computes nothing.
    const Run again = ess(args + QStringList{"-o", out2});
    QVERIFY2(again.status == 0, qPrintable(again.err));
    QVERIFY2(again.err.contains("3 of 3 shard(s) already finished, skipped"), qPrintable(again.err));
    QCOMPARE(readText(out2), reference);
    // A shard cut short by a killed job, and one with a changed number: both found and computed again.
    const QString s0 = work + "/shards/shard-00000.csv", s1 = work + "/shards/shard-00001.csv";
    const QByteArray whole = readText(s0).toUtf8();
    writeText(s0, whole.left(whole.size() / 2));
    QByteArray damaged = readText(s1).toUtf8();
    damaged[damaged.indexOf("\n0,0,3,") + 7] = '9';
    writeText(s1, damaged);
    const Run repaired = ess(args + QStringList{"-o", out2});
    QVERIFY2(repaired.status == 0, qPrintable(repaired.err));
    QVERIFY2(repaired.err.contains(s0 + ": truncated (no end marker); computing it again"), qPrintable(repaired.err));
    QVERIFY2(repaired.err.contains(s1 + ": damaged"), qPrintable(repaired.err));
    QVERIFY2(repaired.err.contains("1 of 3 shard(s) already finished"), qPrintable(repaired.err));
    QCOMPARE(readText(out2), reference);
    QCOMPARE(readText(s0).toUtf8(), whole);
    // --jobs 2 in a fresh folder: the same table.
    const Run parallel =
        ess({"sweep", run_, "--input", kInput, "--splits", "1:15:2", "--work", dir_.filePath("work2"), "--jobs", "2"});
    QVERIFY2(parallel.status == 0, qPrintable(parallel.err));
    QCOMPARE(parallel.out, reference);
    // --collect merges the same; a missing shard is named and nothing is written.
    const QString merged = dir_.filePath("merged.csv");
    const Run collect = ess({"sweep", "--collect", "--work", work, "-o", merged});
    QVERIFY2(collect.status == 0, qPrintable(collect.err));
    QCOMPARE(readText(merged), reference);
    QVERIFY(QFile::remove(work + "/shards/shard-00002.csv"));
    const Run gap = ess({"sweep", "--collect", "--work", work, "-o", dir_.filePath("gap.csv")});
    QCOMPARE(gap.status, 1);
    QVERIFY2(gap.err.contains("sweep: shard 2 (step-3, " + kInput + "): missing"), qPrintable(gap.err));
    QVERIFY2(gap.err.contains("1 of 3 shard(s) missing or failed"), qPrintable(gap.err));
    QVERIFY(!QFile::exists(dir_.filePath("gap.csv")));
    // `ess sweep --work DIR` alone finishes the sweep begun there.
    const Run finish = ess({"sweep", "--work", work, "-o", out2});
    QVERIFY2(finish.status == 0, qPrintable(finish.err));
    QCOMPARE(readText(out2), reference);
    // Another sweep in the same folder is refused.
    const Run other = ess({"sweep", run_, "--input", kInput, "--work", work});
    QCOMPARE(other.status, 1);
    QVERIFY2(other.err.contains(work + ": holds another sweep"), qPrintable(other.err));
  }

  void failedShardsAreListedAndTheOthersKept() {
    const QString work = dir_.filePath("failing");
    // Layer 1 exists in the models only: the operator files fail, named with the reason.
    QDir().mkpath(dir_.filePath("mixed"));
    writeText(dir_.filePath("mixed/list.txt"), (run_ + "/step-1 1\n" + kData + "/gla_d4_L64.safetensors 2\n").toUtf8());
    const Run r = ess({"sweep", dir_.filePath("mixed/list.txt"), "--layer", "1", "--input", kInput, "--work", work});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.contains("sweep: shard 1 (" + kData + "/gla_d4_L64.safetensors, " + kInput +
                            "): --layer 1 is outside 0..0"),
             qPrintable(r.err));
    QVERIFY2(r.err.contains("1 of 2 shard(s) failed (listed above); the others are kept in " + work),
             qPrintable(r.err));
    QVERIFY(QFile::exists(work + "/shards/shard-00000.csv"));
    const Run collect = ess({"sweep", "--collect", "--work", work});
    QCOMPARE(collect.status, 1);
    QVERIFY2(collect.err.contains("): failed: --layer 1 is outside 0..0"), qPrintable(collect.err));
  }

  void slurmSubmissionThroughSbatch() {
    QTemporaryDir bin;
    const QString work = dir_.filePath("slurm");
    // A stand-in sbatch that records its arguments and answers a job id as --parsable does.
    writeText(bin.filePath("sbatch"),
              ("#!/bin/sh\necho \"$@\" > " + bin.filePath("args") + "\necho '4242;c1'\n").toUtf8());
    QFile::setPermissions(bin.filePath("sbatch"), QFile::permissions(bin.filePath("sbatch")) | QFile::ExeOwner);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("PATH", bin.path() + ":/usr/bin:/bin");
    const Run r = essWith({"sweep", list_, "--work", work, "--slurm", "--partition", "debug", "--time", "0:10:00",
                           "--cpus-per-task", "2", "--max-parallel", "1"},
                          env);
    QVERIFY2(r.status == 0, qPrintable(r.err));
    QCOMPARE(r.out, QString("4242\n"));
    QVERIFY(readText(bin.filePath("args")).startsWith("--parsable " + work + "/sweep.sbatch"));
    const QString script = readText(work + "/sweep.sbatch");
    for (const QString& line : {QString("#SBATCH --array=0-1%1\n"), QString("#SBATCH --partition=debug\n"),
                                QString("#SBATCH --time=0:10:00\n"), QString("#SBATCH --cpus-per-task=2\n"),
                                "#SBATCH --output=" + work + "/logs/slurm-%A_%a.out\n"})
      QVERIFY2(script.contains(line), qPrintable(script));
    QVERIFY2(script.contains(" sweep --work '" + work + "' --shards \"$first:$last\"\n"), qPrintable(script));
    // Nothing ran: collect names each shard with its array task's log.
    const Run collect = ess({"sweep", "--collect", "--work", work});
    QCOMPARE(collect.status, 1);
    QVERIFY2(collect.err.contains("): missing (Slurm log " + work + "/logs/slurm-4242_1.out)"),
             qPrintable(collect.err));
    // An array task computes its shards; then collect succeeds and equals the local sweep.
    const Run task0 = ess({"sweep", "--work", work, "--shards", "0:0"});
    const Run task1 = ess({"sweep", "--work", work, "--shards", "1:1"});
    QVERIFY2(task0.status == 0 && task1.status == 0, qPrintable(task0.err + task1.err));
    QVERIFY(task0.out.isEmpty());
    const Run done = ess({"sweep", "--collect", "--work", work});
    QVERIFY2(done.status == 0, qPrintable(done.err));
    QCOMPARE(done.out, ess({"sweep", list_}).out);

    // sbatch refusing the job: its message, exit 1. sbatch missing: said so.
    writeText(bin.filePath("sbatch"),
              "#!/bin/sh\necho 'sbatch: error: invalid partition specified: nope' >&2\nexit 1\n");
    const Run refused =
        essWith({"sweep", list_, "--work", dir_.filePath("slurm2"), "--slurm", "--partition", "nope"}, env);
    QCOMPARE(refused.status, 1);
    QVERIFY2(refused.err.contains("sbatch refused " + dir_.filePath("slurm2") +
                                  "/sweep.sbatch (exit 1): sbatch: error: invalid partition specified: nope"),
             qPrintable(refused.err));
    env.insert("PATH", dir_.filePath("no-such-bin"));
    const Run missing = essWith({"sweep", list_, "--work", dir_.filePath("slurm3"), "--slurm"}, env);
    QCOMPARE(missing.status, 1);
    QVERIFY2(missing.err.contains("sbatch was not found on PATH"), qPrintable(missing.err));
  }

  // A work folder whose path has blanks, '#', '%' and a quote: the #SBATCH lines say it as sbatch
  // reads them and the job script, run as an array task would run it, computes its shards there.
  void slurmScriptQuotesAWorkPathWithSpaces() {
    QTemporaryDir bin;
    const QString work = dir_.filePath("sweep work #1 at 50% it's");
    writeText(bin.filePath("sbatch"), "#!/bin/sh\necho 4343\n");
    QFile::setPermissions(bin.filePath("sbatch"), QFile::permissions(bin.filePath("sbatch")) | QFile::ExeOwner);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("PATH", bin.path() + ":/usr/bin:/bin");
    const Run r = essWith({"sweep", list_, "--work", work, "--slurm", "--partition", "debug queue"}, env);
    QVERIFY2(r.status == 0, qPrintable(r.err));
    const QString script = readText(work + "/sweep.sbatch");
    QString escaped = work;
    escaped.replace("%", "%%").replace("#", "\\#");
    QVERIFY2(script.contains("#SBATCH --output=\"" + escaped + "/logs/slurm-%A_%a.out\"\n"), qPrintable(script));
    QVERIFY2(script.contains("#SBATCH --partition=\"debug queue\"\n"), qPrintable(script));
    // The value as sbatch's _get_argument takes it apart: quotes and backslashes removed, one word.
    const auto sbatchArgument = [](const QString& line) {
      QString out, rest = line.section('=', 1);
      bool escape = false, quoted = false;
      for (QChar c : rest) {
        if (escape)
          escape = false;
        else if (c == '\\') {
          escape = true;
          continue;
        } else if (c == '"') {
          quoted = !quoted;
          continue;
        } else if (c == '#' || (!quoted && c.isSpace()))
          break;
        out += c;
      }
      return out;
    };
    for (const QString& line : script.split('\n'))
      if (line.startsWith("#SBATCH --output="))
        QCOMPARE(sbatchArgument(line), QString(work).replace("%", "%%") + "/logs/slurm-%A_%a.out");
    // Each array task's shell runs the script's own line: its shards land in the work folder.
    for (const char* task : {"0", "1"}) {
      QProcess p;
      QProcessEnvironment taskEnv = QProcessEnvironment::systemEnvironment();
      taskEnv.insert("SLURM_ARRAY_TASK_ID", task);
      p.setProcessEnvironment(taskEnv);
      p.start("/bin/bash", {work + "/sweep.sbatch"});
      QVERIFY(p.waitForFinished(600000));
      QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, p.readAllStandardError().constData());
    }
    const Run done = ess({"sweep", "--collect", "--work", work});
    QVERIFY2(done.status == 0, qPrintable(done.err));
    QCOMPARE(done.out, ess({"sweep", list_}).out);
  }

  // `ess render RUN --figure training`: its numbers (-o .csv) are the sweep's means of the layer
  // totals, averaged over the inputs given, beside the logged metrics; the PNG is the size asked.
  void renderTrainingFigure() {
    const QString second = QStringLiteral("mqar:seed=6,len=16,pairs=2,vocab=16");
    const QString csv = dir_.filePath("training.csv");
    const Run r = ess({"render", run_, "--figure", "training", "--input", kInput, "--input", second, "-o", csv});
    QVERIFY2(r.status == 0, qPrintable(r.err));
    const Run sweep =
        ess({"sweep", run_, "--head", "total", "--summary", "mean", "--input", kInput, "--input", second});
    QVERIFY2(sweep.status == 0, qPrintable(sweep.err));
    // checkpoint,step,input,layer,head,tolerance_ess,entropy_ess,tss: the mean over both inputs.
    QMap<QPair<int, int>, double> expected;  // (step, layer)
    for (const QString& line : dataLines(sweep.out)) {
      const QStringList f = csvFields(line);
      QCOMPARE(f.size(), 8);
      expected[{f[1].toInt(), f[3].toInt()}] += f[5].toDouble() / 2;
    }
    QCOMPARE(expected.size(), 6);  // 3 checkpoints x 2 layers
    const QString text = readText(csv);
    QVERIFY2(text.startsWith("panel,series,step,value\n"), qPrintable(text));
    int essRows = 0, accuracyRows = 0;
    const QStringList metrics = readText(run_ + "/metrics.jsonl").split('\n', Qt::SkipEmptyParts);
    for (const QString& line : dataLines(text)) {
      const QStringList f = csvFields(line);
      QCOMPARE(f.size(), 4);
      if (f[0] == "ess") {
        QVERIFY2(f[1] == "layer 0" || f[1] == "layer 1", qPrintable(f[1]));  // one kind: no mixer named
        const double want = expected.value({f[2].toInt(), f[1].mid(6, 1).toInt()}, -1);
        QVERIFY2(std::abs(f[3].toDouble() - want) <= 1e-9 * std::abs(want), qPrintable(line));
        ++essRows;
      } else if (f[1] == "accuracy") {
        const QJsonObject m = QJsonDocument::fromJson(metrics[f[2].toInt() - 1].toUtf8()).object();
        QCOMPARE(m["step"].toInt(), f[2].toInt());
        QCOMPARE(f[3].toDouble(), m["accuracy"].toDouble());
        ++accuracyRows;
      }
      QVERIFY2(f[1] != "lr", "the learning rate is not drawn");
    }
    QCOMPARE(essRows, 6);
    QCOMPARE(accuracyRows, 3);
    // Utilization is a share of the TSS; the paper-style PNG is 3.25 in at 300 dpi.
    const QString util = dir_.filePath("training_util.csv");
    QCOMPARE(ess({"render", run_, "--figure", "training", "--measure", "utilization", "-o", util}).status, 0);
    for (const QString& line : dataLines(readText(util)))
      if (line.startsWith("ess,"))
        QVERIFY2(csvFields(line)[3].toDouble() > 0 && csvFields(line)[3].toDouble() <= 1, qPrintable(line));
    const QString png = dir_.filePath("training.png");
    const Run p = ess({"render", run_, "--figure", "training", "--style", "paper", "-o", png});
    QVERIFY2(p.status == 0, qPrintable(p.err));
    QCOMPARE(QImage(png).width(), 975);
    // Usage errors, exit 2, naming the option.
    const QList<QPair<QStringList, QString>> bad = {
        {{"--figure", "training", "--measure", "tss"}, "--measure: expected tolerance, entropy or utilization"},
        {{"--figure", "training", "--split", "3"}, "--split and --head do not apply"},
        {{"--figure", "curve", "--measure", "entropy"}, "--measure applies to --figure training only"},
        {{"--figure", "curve", "--input", kInput, "--input", second}, "only --figure training takes several"}};
    for (const auto& [args, says] : bad) {
      const Run u = ess(QStringList{"render", run_} + args + QStringList{"-o", png});
      QVERIFY2(u.status == 2 && u.err.contains(says), qPrintable(args.join(' ') + ": " + u.err));
    }
  }

  void badUsageAndBadRuns() {
    struct Case {
      QStringList args;
      int status;
      QString says;
    };
    const QString empty = dir_.filePath("empty-run");
    QDir().mkpath(empty);
    const QList<Case> cases = {
        {{"sweep"}, 2, "expected a RUN_OR_LIST"},
        {{"sweep", list_, "--slurm"}, 2, "--slurm needs --work DIR"},
        {{"sweep", list_, "--partition", "x"}, 2, "--partition: only with --slurm"},
        {{"sweep", list_, "--summary", "median"}, 2, "--summary: expected mean or none"},
        {{"sweep", list_, "--jobs", "0"}, 2, "--jobs: expected 1..256"},
        {{"sweep", list_, "--layer", "x"}, 2, "--layer: expected all, N, A:B"},
        {{"sweep", list_, "--tolerance", "-1"}, 2, "--tolerance: must not be negative"},
        {{"sweep", "--collect"}, 2, "--collect needs --work DIR"},
        {{"sweep", "--work", dir_.filePath("nothing-here")}, 1, "holds no sweep (no sweep.json)"},
        {{"sweep", empty}, 1, empty + ": holds no checkpoints"},
        {{"sweep", dir_.filePath("ghost")}, 1, dir_.filePath("ghost") + ": no such file or folder"},
    };
    for (const Case& c : cases) {
      const Run r = ess(c.args);
      QVERIFY2(r.status == c.status, qPrintable(c.args.join(' ') + ": " + r.err));
      QVERIFY2(r.err.startsWith("error: ") && r.err.contains(c.says), qPrintable(c.args.join(' ') + ": " + r.err));
    }
    const Run help = ess({"sweep", "--help"});
    QCOMPARE(help.status, 0);
    QVERIFY2(help.out.contains("--collect --work DIR") && help.out.contains("--max-parallel M"), qPrintable(help.out));
  }
};

QTEST_GUILESS_MAIN(TestCliSweep)
#include "test_cli_sweep.moc"
