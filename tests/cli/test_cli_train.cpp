// `ess train-mqar` and its mixer option flags, which come from the mixer registry
// (ess/mixer_registry.h): usage and help list every option, and --expand / --dt-rank reach
// config.json like the older --window, --conv-kernel, --state-size, --filter-length.
#include <QtTest>

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include "cli_test_util.h"

namespace {

using clitest::ess;
using clitest::Run;

const QStringList kTiny = {"--layers", "1",  "--d-model", "16", "--steps", "1",  "--batch",        "2",
                           "--length", "16", "--pairs",   "2",  "--vocab", "16", "--eval-samples", "2"};

}  // namespace

class TestCliTrain : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void helpListsOptions() {
    const Run all = ess({"--help"});
    QCOMPARE(all.status, 0);
    const Run help = ess({"train-mqar", "--help"});
    QCOMPARE(help.status, 0);
    for (const char* flag : {"[--window W]", "[--conv-kernel K]", "[--state-size N]", "[--filter-length F]",
                             "[--expand E]", "[--dt-rank R]", "--out DIR"}) {
      QVERIFY2(all.out.contains(flag), qPrintable(all.out));
      QVERIFY2(help.out.contains(flag), qPrintable(help.out));
    }
    // Only the command's own help explains the options and lists the kinds.
    QVERIFY2(help.out.contains("  --dt-rank R  ") && help.out.contains("\"dt_rank\", default 0; read by mamba\n"),
             qPrintable(help.out));
    QVERIFY2(help.out.contains("\"state_size\", default 16; read by mamba2, lti_ssm, mamba\n"), qPrintable(help.out));
    QVERIFY2(help.out.contains("KIND: softmax_attention, linear_attention"), qPrintable(help.out));
    QVERIFY2(help.out.contains("FILE: "), qPrintable(help.out));
    QVERIFY2(!all.out.contains("KIND: "), qPrintable(all.out));
    for (const QString& line : help.out.split('\n')) QVERIFY2(line.size() <= 100, qPrintable(line));
  }

  void mambaSizesReachConfig() {
    QTemporaryDir dir;
    const QString ckpt = dir.filePath("m");
    Run train =
        ess(QStringList{"train-mqar", "--mixer", "mamba"} + kTiny +
            QStringList{"--expand", "1", "--dt-rank", "3", "--state-size", "4", "--conv-kernel", "2", "--out", ckpt});
    QVERIFY2(train.status == 0, qPrintable(train.err));
    QFile f(ckpt + "/config.json");
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonObject j = QJsonDocument::fromJson(f.readAll()).object();
    QCOMPARE(j["expand"].toInt(), 1);
    QCOMPARE(j["dt_rank"].toInt(), 3);
    QCOMPARE(j["state_size"].toInt(), 4);
    QCOMPARE(j["conv_kernel"].toInt(), 2);
    QCOMPARE(j["filter_length"].toInt(), 16);  // unset: the sequence length
  }

  void badOptionValues() {
    QTemporaryDir dir;
    const QList<QPair<QStringList, QString>> cases = {
        {{"--expand", "0"}, "--expand must be at least 1, got 0"},
        {{"--dt-rank", "-1"}, "--dt-rank must be at least 0 (0: automatic), got -1"},
        {{"--window", "0"}, "--window must be at least 1, got 0"},
        {{"--filter-length", "0"}, "--filter-length must be at least 1, got 0"},
        {{"--expand", "x"}, "--expand"},
    };
    for (const auto& [flags, message] : cases) {
      Run r =
          ess(QStringList{"train-mqar", "--mixer", "mamba"} + kTiny + flags + QStringList{"--out", dir.filePath("x")});
      QCOMPARE(r.status, 2);
      QVERIFY2(r.err.contains(message), qPrintable(r.err));
      QVERIFY(!QFile::exists(dir.filePath("x")));
    }
    Run unknown = ess(QStringList{"train-mqar", "--mixer", "mamba7"} + kTiny + QStringList{"--out", dir.filePath("x")});
    QCOMPARE(unknown.status, 2);
    QVERIFY2(unknown.err.contains("unknown mixer kind 'mamba7' (known kinds: softmax_attention"),
             qPrintable(unknown.err));
  }
};

QTEST_GUILESS_MAIN(TestCliTrain)
#include "test_cli_train.moc"
