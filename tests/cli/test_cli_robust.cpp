// Bad input through the real `ess` binary (issue 12): nothing hangs on a FIFO or a device, sizes
// from files and specs are checked before anything is allocated, write failures on stdout are
// errors, an output over an input is refused, ambiguous files and specs are refused, and every
// message names the file and the problem in the program's words (no library text).
#include <sys/stat.h>
#include <unistd.h>

#include <QtTest>

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include "cli_test_util.h"

namespace {

using clitest::Run;

QString data(const QString& name) { return QStringLiteral(ESS_TEST_DATA_DIR "/") + name; }

QString demo() { return QStringLiteral(ESS_SOURCE_DIR "/resources/demo/hybrid"); }

/// Runs `ess`; a run that has not ended after 120 s is a hang (status -1), whatever the machine.
Run essRun(const QStringList& args, const QString& stdoutFile = QString()) {
  QProcess p;
  if (!stdoutFile.isEmpty()) p.setStandardOutputFile(stdoutFile);
  p.start(QStringLiteral(ESS_CLI), args);
  if (!p.waitForFinished(120000)) {
    p.kill();
    p.waitForFinished();
    return {};
  }
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardOutput()),
          QString::fromUtf8(p.readAllStandardError())};
}

/// Words of LibTorch, the C++ library or nlohmann_json that must never reach a user.
bool hasLibraryWords(const QString& s) {
  for (const char* w : {"alloc_cpu", "enforce fail", "std::bad_alloc", "Expected reduction dim",
                        "c10::", "at::", "[json.exception", "basic_string", "terminate called"})
    if (s.contains(QLatin1String(w))) return true;
  return false;
}

QByteArray sha256(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

/// A copy of the demo checkpoint in `dir` whose config.json has `field` set to `value`.
QString demoWith(const QTemporaryDir& dir, const QString& field, qint64 value) {
  const QString out = dir.filePath("ckpt");
  QDir().mkpath(out);
  QFile::copy(demo() + "/model.safetensors", out + "/model.safetensors");
  QFile in(demo() + "/config.json");
  in.open(QIODevice::ReadOnly);
  QJsonObject cfg = QJsonDocument::fromJson(in.readAll()).object();
  if (!field.isEmpty()) cfg[field] = double(value);
  QFile o(out + "/config.json");
  o.open(QIODevice::WriteOnly);
  o.write(QJsonDocument(cfg).toJson());
  return out;
}

}  // namespace

class TestCliRobust : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  // A FIFO, a device, a directory with no checkpoint and a symbolic-link loop given as FILE are
  // refused at once, with the reason; none is opened blocking.
  void nonRegularFilesAreRefusedWithoutBlocking_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("expected");
    QTest::newRow("fifo") << "fifo"
                          << "is a FIFO (named pipe), not a";
    QTest::newRow("device") << "device"
                            << "is a device, not a";
    QTest::newRow("symlink loop") << "loop"
                                  << "Too many levels of symbolic links";
    QTest::newRow("name too long") << "long"
                                   << "File name too long";
  }
  void nonRegularFilesAreRefusedWithoutBlocking() {
    QFETCH(QString, kind);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    QString path;
    if (kind == "fifo") {
      path = dir.filePath("f.safetensors");
      QCOMPARE(::mkfifo(path.toLocal8Bit().constData(), 0600), 0);
    } else if (kind == "device") {
      path = QStringLiteral("/dev/zero");
    } else if (kind == "loop") {
      path = dir.filePath("a.safetensors");
      QVERIFY(QFile::link(dir.filePath("b.safetensors"), path));
      QVERIFY(QFile::link(path, dir.filePath("b.safetensors")));
    } else {
      path = dir.filePath(QString(300, QLatin1Char('x')) + ".safetensors");
    }
    for (const char* command : {"info", "curve"}) {
      const Run r = essRun({command, path});
      QCOMPARE(r.status, 1);
      QVERIFY2(r.err.startsWith("error: " + path + ": "), qPrintable(r.err));
      QVERIFY2(r.err.contains(expected), qPrintable(r.err));
      QCOMPARE(r.err.count('\n'), 1);
    }
  }

  // config.json and a model folder's other files: a FIFO there is refused as well.
  void fifoInsideACheckpointFolderIsRefused() {
    QTemporaryDir dir;
    const QString ckpt = demoWith(dir, QString(), 0);
    QFile::remove(ckpt + "/config.json");
    QCOMPARE(::mkfifo((ckpt + "/config.json").toLocal8Bit().constData(), 0600), 0);
    const Run r = essRun({"info", ckpt});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.contains("config.json") && r.err.contains("FIFO"), qPrintable(r.err));
  }

  // A FIFO as a checkpoint's tokenizer.json or tokenizer.model is refused, not waited on.
  void fifoTokenizerIsRefused_data() {
    QTest::addColumn<QString>("family");
    QTest::addColumn<QString>("file");
    QTest::newRow("tokenizer.json") << "gpt2_torch"
                                    << "tokenizer.json";
    QTest::newRow("tokenizer.model") << "llama_spm_torch"
                                     << "tokenizer.model";
  }
  void fifoTokenizerIsRefused() {
    QFETCH(QString, family);
    QFETCH(QString, file);
    QTemporaryDir dir;
    const QString src = data("hf/" + family);
    for (const QString& f : QDir(src).entryList(QDir::Files))
      if (f != file) QVERIFY(QFile::copy(src + "/" + f, dir.filePath(f)));
    QCOMPARE(::mkfifo(dir.filePath(file).toLocal8Bit().constData(), 0600), 0);
    const Run r = essRun({"curve", dir.path(), "--input", "text:hello"});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.contains(dir.filePath(file) + ": is a FIFO (named pipe)"), qPrintable(r.err));
  }

  // Sizes typed by the user are checked against the model before anything is allocated.
  void hugeInputLengthsAreRefusedBeforeAllocation_data() {
    QTest::addColumn<QString>("spec");
    QTest::newRow("mqar len") << "mqar:seed=0,len=1000000000,pairs=8";
    QTest::newRow("mqar len over int") << "mqar:seed=0,len=100000000000,pairs=8";
    QTest::newRow("random len") << "random:seed=0,len=1000000000";
  }
  void hugeInputLengthsAreRefusedBeforeAllocation() {
    QFETCH(QString, spec);
    const Run r = essRun({"curve", demo(), "--input", spec});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.contains("exceeds the model's maximum length"), qPrintable(r.err));
    QVERIFY2(!hasLibraryWords(r.err), qPrintable(r.err));
  }

  // Sizes read from config.json are checked against the weights file before the model is built.
  void hugeConfigSizesAreRefusedBeforeAllocation_data() {
    QTest::addColumn<QString>("field");
    QTest::newRow("max_length") << "max_length";
    QTest::newRow("vocab_size") << "vocab_size";
    QTest::newRow("mlp_hidden") << "mlp_hidden";
  }
  void hugeConfigSizesAreRefusedBeforeAllocation() {
    QFETCH(QString, field);
    QTemporaryDir dir;
    const QString ckpt = demoWith(dir, field, 1000000000);
    const Run r = essRun({"info", ckpt});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.startsWith("error: " + ckpt + ": config.json (vocab_size ") &&
                 r.err.contains(field + " 1000000000") && r.err.contains("does not match the weights"),
             qPrintable(r.err));
    QVERIFY2(!hasLibraryWords(r.err), qPrintable(r.err));
  }

  // Hugging Face config.json sizes are checked against the weights' shapes before use.
  void hugeHuggingFaceConfigSizesAreRefused_data() {
    QTest::addColumn<QString>("family");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("expected");
    QTest::newRow("gpt2 n_positions") << "gpt2_torch"
                                      << "n_positions"
                                      << "'transformer.wpe.weight' has shape [16, 16]";
    QTest::newRow("gpt2 n_embd") << "gpt2_torch"
                                 << "n_embd"
                                 << "'transformer.wte.weight' has shape [32, 16]";
    QTest::newRow("mamba state_size") << "mamba_torch"
                                      << "state_size"
                                      << "x_proj.weight' has shape [10, 32]";
  }
  void hugeHuggingFaceConfigSizesAreRefused() {
    QFETCH(QString, family);
    QFETCH(QString, field);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    const QString src = data("hf/" + family);
    for (const QString& f : QDir(src).entryList(QDir::Files)) QVERIFY(QFile::copy(src + "/" + f, dir.filePath(f)));
    QFile in(src + "/config.json");
    QVERIFY(in.open(QIODevice::ReadOnly));
    QJsonObject cfg = QJsonDocument::fromJson(in.readAll()).object();
    cfg[field] = 1e9;
    QFile::remove(dir.filePath("config.json"));
    QFile o(dir.filePath("config.json"));
    QVERIFY(o.open(QIODevice::WriteOnly));
    o.write(QJsonDocument(cfg).toJson());
    o.close();
    const Run r = essRun({"curve", dir.path()});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.contains(expected) && r.err.contains("config.json implies"), qPrintable(r.err));
    QVERIFY2(!hasLibraryWords(r.err), qPrintable(r.err));
  }

  // A 360-byte .pt whose data.pkl claims 4 GiB is refused by the size check, at once.
  void zipEntryLargerThanTheFileIsRefused() {
    const Run r = essRun({"info", data("bad/zip_entry_claims_4gib.pt")});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.contains("zip_entry_claims_4gib.pt: archive entry 'archive/data.pkl' claims 4294967294 bytes"),
             qPrintable(r.err));
  }

  // Messages that used to mislead.
  void messagesSayWhatIsWrong_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("expected");
    QTest::newRow("json array, length 0x80") << "bad/header_json_array_len_0x80.safetensors"
                                             << "header is not a JSON object";
    QTest::newRow("complex tensor") << "bad/complex_tensor.pt"
                                    << "holds a tensor of a kind that is not supported";
    QTest::newRow("sparse tensor") << "bad/sparse_tensor.pt"
                                   << "holds a tensor of a kind that is not supported";
    QTest::newRow("duplicate name") << "bad/duplicate_tensor_name.safetensors"
                                    << "the header names 'operator' twice";
    QTest::newRow("operator and generators") << "bad/operator_and_generators.safetensors"
                                             << "holds both a tensor 'operator' and generators";
    QTest::newRow("generators N = 0") << "bad/generators_n0.safetensors"
                                      << "a state size N of at least 1";
  }
  void messagesSayWhatIsWrong() {
    QFETCH(QString, file);
    QFETCH(QString, expected);
    const Run r = essRun({"curve", data(file)});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.startsWith("error: " + data(file) + ": "), qPrintable(r.err));
    QVERIFY2(r.err.contains(expected), qPrintable(r.err));
    QVERIFY2(!r.err.contains("legacy") && !r.err.contains("may contain code"), qPrintable(r.err));
    QVERIFY2(!hasLibraryWords(r.err), qPrintable(r.err));
  }

  // Ambiguous specs are refused, naming the problem.
  void ambiguousSpecsAreRefused_data() {
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("expected");
    QTest::newRow("empty token") << "tokens:1,,2"
                                 << "an empty token id";
    QTest::newRow("seed twice") << "mqar:seed=0,len=16,seed=1"
                                << "'seed' is given twice";
    QTest::newRow("len twice") << "random:len=8,len=9"
                               << "'len' is given twice";
  }
  void ambiguousSpecsAreRefused() {
    QFETCH(QString, spec);
    QFETCH(QString, expected);
    const Run r = essRun({"curve", demo(), "--input", spec});
    QCOMPARE(r.status, 2);
    QVERIFY2(r.err.contains(expected), qPrintable(r.err));
  }

  // A full disk on stdout is an error, not success.
  void writeFailureOnStdoutIsAnError_data() {
    QTest::addColumn<QStringList>("args");
    QTest::newRow("info") << QStringList{"info", data("identity_L16.safetensors")};
    QTest::newRow("info json") << QStringList{"info", data("identity_L16.safetensors"), "--format", "json"};
    QTest::newRow("curve") << QStringList{"curve", data("identity_L16.safetensors")};
    QTest::newRow("help") << QStringList{"--help"};
  }
  void writeFailureOnStdoutIsAnError() {
    QFETCH(QStringList, args);
    if (!QFileInfo::exists("/dev/full")) QSKIP("no /dev/full on this machine");
    const Run r = essRun(args, QStringLiteral("/dev/full"));
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.contains("cannot write to standard output: No space left on device"), qPrintable(r.err));
  }

  // The weights truncated, replaced or deleted while `ess curve --layer all` runs (a training
  // job saving over them): whenever it happens, the run either finishes from what it read or
  // stops with a message naming the file; it never dies of a signal (SIGBUS).
  void checkpointChangedWhileRunning_data() {
    QTest::addColumn<QString>("change");
    QTest::newRow("truncated") << "truncate";
    QTest::newRow("replaced") << "replace";
    QTest::newRow("deleted") << "delete";
  }
  void checkpointChangedWhileRunning() {
    QFETCH(QString, change);
    QTemporaryDir dir;
    const QString ckpt = demoWith(dir, QString(), 0);
    const QString weights = ckpt + "/model.safetensors";
    QProcess p;
    p.start(QStringLiteral(ESS_CLI), {"curve", ckpt, "--layer", "all"});
    QVERIFY(p.waitForStarted());
    if (change == "truncate") {
      QVERIFY(QFile::resize(weights, 100));
    } else if (change == "replace") {
      QFile junk(dir.filePath("junk"));
      QVERIFY(junk.open(QIODevice::WriteOnly));
      junk.write(QByteArray(4096, 'x'));
      junk.close();
      QVERIFY(::rename(dir.filePath("junk").toLocal8Bit().constData(), weights.toLocal8Bit().constData()) == 0);
    } else {
      QVERIFY(QFile::remove(weights));
    }
    QVERIFY(p.waitForFinished(120000));
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    const QString err = QString::fromUtf8(p.readAllStandardError());
    QVERIFY2(p.exitCode() == 0 || (p.exitCode() == 1 && err.contains("model.safetensors")), qPrintable(err));
  }

  // -o on a full disk or a FIFO nobody reads: exit 1 with the reason, no hang.
  void writeFailureOnOutputFileIsAnError() {
    if (QFileInfo::exists("/dev/full")) {
      const Run r = essRun({"curve", data("identity_L16.safetensors"), "-o", "/dev/full"});
      QCOMPARE(r.status, 1);
      QVERIFY2(r.err.contains("/dev/full: cannot write: No space left on device"), qPrintable(r.err));
    }
    QTemporaryDir dir;
    const QString fifo = dir.filePath("out.csv");
    QCOMPARE(::mkfifo(fifo.toLocal8Bit().constData(), 0600), 0);
    const Run r = essRun({"curve", data("identity_L16.safetensors"), "-o", fifo});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.contains(fifo + ": is a FIFO that nothing reads"), qPrintable(r.err));
  }

  // -o naming the input, or a file of the input folder, is refused and the input left intact.
  void outputOverAnInputIsRefused() {
    QTemporaryDir dir;
    const QString ckpt = demoWith(dir, QString(), 0);
    const QByteArray before = sha256(ckpt + "/model.safetensors");
    Run r = essRun({"operator", ckpt, "--layer", "0", "-o", ckpt + "/model.safetensors"});
    QCOMPARE(r.status, 2);
    QVERIFY2(r.err.contains("is a file of the input folder"), qPrintable(r.err));
    QCOMPARE(sha256(ckpt + "/model.safetensors"), before);
    r = essRun({"curve", ckpt, "-o", ckpt + "/config.json"});
    QCOMPARE(r.status, 2);
    const QString op = dir.filePath("op.safetensors");
    QVERIFY(QFile::copy(data("identity_L16.safetensors"), op));
    const QByteArray opBefore = sha256(op);
    r = essRun({"convert", op, "-o", op});
    QCOMPARE(r.status, 2);
    QVERIFY2(r.err.contains("is the input file itself"), qPrintable(r.err));
    QCOMPARE(sha256(op), opBefore);
    // A new file beside the checkpoint is fine.
    r = essRun({"operator", ckpt, "--layer", "0", "-o", ckpt + "/layer0.safetensors"});
    QCOMPARE(r.status, 0);
  }
};

QTEST_GUILESS_MAIN(TestCliRobust)
#include "test_cli_robust.moc"
