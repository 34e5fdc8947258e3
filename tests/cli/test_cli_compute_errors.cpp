// Library failures during computation (issue 12), through the real `ess` binary: what leaves
// LibTorch or the C++ library while an operator or curve is computed (an allocation it cannot
// make, c10::Error or std::bad_alloc) is one sentence naming the file, the layer, what was being
// done and the input (exit 1), and nlohmann_json's tag never reaches a message.
#include <QtTest>

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTemporaryDir>

#include "../qt_safetensors.h"
#include "cli_test_util.h"

namespace {

using testfiles::overflowingOperatorFile;

using clitest::Run;

/// Runs `ess`; standard error without AddressSanitizer's own note on an allocation it refused
/// ("==PID==WARNING: AddressSanitizer failed to allocate ...", sanitizer build only), which is
/// the runtime's, not the program's.
Run ess(const QStringList& args) {
  Run r = clitest::ess(args);
  static const QRegularExpression asanNote(
      QStringLiteral("^==\\d+==WARNING: AddressSanitizer failed to allocate[^\n]*\n"),
      QRegularExpression::MultilineOption);
  r.err.remove(asanNote);
  return r;
}

/// Words of LibTorch, the C++ library or nlohmann_json, and stack-trace text.
bool hasLibraryWords(const QString& s) {
  for (const char* w : {"c10", "enforce fail", "alloc_cpu", "Expected", "bad_alloc", "std::", "at::", "json.exception",
                        "frame #", "Exception raised from", "terminate called"})
    if (s.contains(QLatin1String(w))) return true;
  return false;
}

/// A copy of the Qwen2 fixture (no tokenizer: runs under ASan too, see scripts/sanitize.sh) whose config.json claims
/// `max_position_embeddings` = 1e8: nothing in the weights depends on it (RoPE), so an input of 300,000 tokens passes
/// every check, and its attention scores (4 x L x L float64, 2.9 TB) are an allocation LibTorch cannot make on any
/// machine (nor under AddressSanitizer, whose limit is 1 TiB).
QString qwen2WithLongContext(const QTemporaryDir& dir) {
  const QString src = QStringLiteral(ESS_TEST_DATA_DIR "/hf/qwen2_torch");
  const QString out = dir.filePath("qwen2");
  QDir().mkpath(out);
  for (const QString& f : QDir(src).entryList(QDir::Files))
    if (f != "config.json") QFile::copy(src + "/" + f, out + "/" + f);
  QFile in(src + "/config.json");
  in.open(QIODevice::ReadOnly);
  QJsonObject cfg = QJsonDocument::fromJson(in.readAll()).object();
  cfg["max_position_embeddings"] = 100000000;
  QFile o(out + "/config.json");
  o.open(QIODevice::WriteOnly);
  o.write(QJsonDocument(cfg).toJson());
  return out;
}

/// A generator file (C, B, log_a of [1, L, 1]) with L = 1,000,000 (24 MB): its dense operator
/// would be 8 TB.
QString longGeneratorFile(const QTemporaryDir& dir) {
  const qint64 L = 1000000;
  QJsonObject header;
  QByteArray data;
  for (const char* name : {"C", "B", "log_a"}) {
    const double v = QByteArray(name) == "log_a" ? -0.01 : 0.5;
    const qint64 begin = data.size();
    for (qint64 i = 0; i < L; ++i) data.append(reinterpret_cast<const char*>(&v), sizeof v);
    header[name] = QJsonObject{
        {"dtype", "F64"}, {"shape", QJsonArray{1, L, 1}}, {"data_offsets", QJsonArray{begin, qint64(data.size())}}};
  }
  return testfiles::writeSafetensors(dir.filePath("long.safetensors"), header, data);
}

const QString kNoMemory =
    QStringLiteral(": not enough memory on this machine; lower the budget or use a shorter input\n");

}  // namespace

class TestCliComputeErrors : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  // LibTorch's c10::Error ("[enforce fail at alloc_cpu.cpp] ... can't allocate memory") while
  // the attention of layer 0 is computed, for `curve` and for `operator` (nothing written).
  void libTorchAllocationFailureIsOneSentence() {
    QTemporaryDir dir;
    const QString model = qwen2WithLongContext(dir);
    const QString input = QStringLiteral("random:seed=0,len=300000");
    const QString work = model + ": layer 0 (softmax_attention), ";
    const Run c = ess({"curve", model, "--layer", "0", "--input", input, "--memory-budget", "1000000"});
    QCOMPARE(c.status, 1);
    QCOMPARE(c.err, "error: " + work + "computing the ESS curves, input " + input + kNoMemory);
    QVERIFY2(!hasLibraryWords(c.err), qPrintable(c.err));
    QVERIFY(c.out.isEmpty());
    const QString out = dir.filePath("op.safetensors");
    const Run o = ess({"operator", model, "--layer", "0", "--input", input, "--memory-budget", "1000000", "-o", out});
    QCOMPARE(o.status, 1);
    QCOMPARE(o.err, "error: " + work + "computing the operator, input " + input + kNoMemory);
    QVERIFY(!QFile::exists(out));
  }

  // std::bad_alloc from the math library's own dense path (a generator file asked for its
  // dense operator under a budget larger than the machine).
  void stdBadAllocIsOneSentence() {
    QTemporaryDir dir;
    const QString file = longGeneratorFile(dir);
    const Run r = ess({"curve", file, "--algorithm", "dense", "--memory-budget", "100000"});
    QCOMPARE(r.status, 1);
    QCOMPARE(r.err, "error: " + file + ": layer 0 (semiseparable), computing the ESS curves" + kNoMemory);
    QVERIFY2(!hasLibraryWords(r.err), qPrintable(r.err));
    // The structured engine needs no dense operator: the same file works (a few splits).
    const Run ok = ess({"curve", file, "--splits", "499999:500001:1", "--format", "json"});
    QCOMPARE(ok.status, 0);
    QVERIFY2(ok.out.contains("\"tolerance_ess\""), qPrintable(ok.err));
  }

  // A real numerical failure while computing, from a file that passes every check at open: the
  // operator's entries near the largest double overflow LAPACK's norms. One line naming the
  // file, the layer and the work, then the problem; exit 1, nothing on standard output.
  void numericalFailureNamesTheFile() {
    QTemporaryDir dir;
    const QString file = overflowingOperatorFile(dir);
    const Run info = ess({"info", file});
    QCOMPARE(info.status, 0);  // opens: nothing is wrong with the file as such
    const Run r = ess({"curve", file});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.startsWith("error: " + file + ": layer 0 (") && r.err.contains("computing the ESS curves: LAPACK") &&
                 r.err.contains("finite entries, which overflow double precision") && !r.err.contains("NaN") &&
                 r.err.count('\n') == 1 && r.err.endsWith('\n'),
             qPrintable(r.err));
    QVERIFY2(!hasLibraryWords(r.err), qPrintable(r.err));
    QVERIFY(r.out.isEmpty());
  }

  // A config.json that is not valid JSON (Python's json writes NaN for float("nan"); its
  // Infinity is read, as Mamba-2's time_step_limit needs): the
  // position and the problem, without nlohmann_json's "[json.exception.parse_error.101]".
  void invalidJsonInTheProgramsWords() {
    QTemporaryDir dir;
    const QString model = dir.filePath("m");
    QDir().mkpath(model);
    const QString src = QStringLiteral(ESS_TEST_DATA_DIR "/hf/qwen2_torch");
    for (const QString& f : QDir(src).entryList(QDir::Files))
      if (f != "config.json") QFile::copy(src + "/" + f, model + "/" + f);
    QFile o(model + "/config.json");
    o.open(QIODevice::WriteOnly);
    o.write(R"({"model_type": "qwen2", "rms_norm_eps": NaN})");
    o.close();
    const Run r = ess({"info", model});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.startsWith("error: " + model + "/config.json: not valid JSON: line 1, column "), qPrintable(r.err));
    QVERIFY2(r.err.contains("syntax error"), qPrintable(r.err));
    QVERIFY2(!hasLibraryWords(r.err), qPrintable(r.err));
    QCOMPARE(r.err.count('\n'), 1);
  }
};

QTEST_MAIN(TestCliComputeErrors)
#include "test_cli_compute_errors.moc"
