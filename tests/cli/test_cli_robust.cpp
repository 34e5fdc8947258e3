// Bad input through the real `ess` binary (issue 12): nothing hangs on a FIFO or a device, sizes
// from files and specs are checked before anything is allocated, write failures on stdout are
// errors, an output over an input is refused, ambiguous files and specs are refused, and every
// message names the file and the problem in the program's words (no library text).
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>

#include <QtTest>

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <functional>

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
                        "c10::", "at::", "[json.exception", "basic_string", "terminate called", "libpng"})
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

/// Copies every file of folder `from` into `to` (created).
void copyFolder(const QString& from, const QString& to) {
  QDir().mkpath(to);
  for (const QString& f : QDir(from).entryList(QDir::Files)) QFile::copy(from + "/" + f, to + "/" + f);
}

/// Runs the test binary ess_test_hooks (`ess` with its test seams compiled in) with `variable`
/// set to `value`: once it says it waits, runs `act` (on the process) and lets it go on.
/// Status -1 on a crash or a hang; `signal` the signal that ended it (0 when none).
Run essPausing(const QStringList& args, const QString& variable, const QString& value,
               const std::function<void(QProcess&)>& act, int* signal = nullptr) {
  QProcess p;
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert(variable, value);
  p.setProcessEnvironment(env);
  p.setReadChannel(QProcess::StandardError);  // what waitForReadyRead waits for
  p.start(QStringLiteral(ESS_CLI_TEST_HOOKS), args);
  QByteArray err;
  while (!err.contains("waiting for a line on standard input") && p.state() != QProcess::NotRunning) {
    if (!p.waitForReadyRead(120000) && p.state() != QProcess::NotRunning) break;
    err += p.readAllStandardError();
  }
  if (err.contains("waiting for a line")) act(p);
  p.write("\n");
  p.closeWriteChannel();
  if (!p.waitForFinished(120000)) {
    p.kill();
    p.waitForFinished();
    return {};
  }
  err += p.readAllStandardError();
  if (signal) *signal = p.exitStatus() == QProcess::CrashExit ? p.exitCode() : 0;
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardOutput()),
          QString::fromUtf8(err)};
}

/// Runs `ess` (the test binary) pausing after the open: once it says it opened FILE, runs
/// `change` (the files altered between the open and their first use) and lets it go on.
Run essChangedAfterOpen(const QStringList& args, const std::function<void()>& change) {
  return essPausing(args, "ESS_TEST_PAUSE_AFTER_OPEN", "1", [&](QProcess&) { change(); });
}

/// Runs `ess` with its file size limited to `maxBytes` (RLIMIT_FSIZE) and SIGXFSZ ignored, so
/// that write(2) past the limit fails with EFBIG as on a full disk (no root or tmpfs needed).
Run essWithFileSizeLimit(const QStringList& args, rlim_t maxBytes) {
  QProcess p;
  p.setChildProcessModifier([maxBytes] {
    ::signal(SIGXFSZ, SIG_IGN);  // kept across exec
    const struct rlimit limit { maxBytes, maxBytes };
    ::setrlimit(RLIMIT_FSIZE, &limit);
  });
  p.start(QStringLiteral(ESS_CLI), args);
  if (!p.waitForFinished(120000)) {
    p.kill();
    p.waitForFinished();
    return {};
  }
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardOutput()),
          QString::fromUtf8(p.readAllStandardError())};
}

/// Writes `bytes` to `path` under another name first, then renames it over `path` (as
/// save-and-rename writers do: a new inode under the old name).
bool replaceByRename(const QString& path, const QByteArray& bytes) {
  const QString tmp = path + ".new";
  QFile f(tmp);
  if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size()) return false;
  f.close();
  return ::rename(tmp.toLocal8Bit().constData(), path.toLocal8Bit().constData()) == 0;
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

  // A file truncated, rewritten, replaced or deleted between the open and its use (a training
  // job saving over the checkpoint): exit 1 and one sentence naming the file and what happened,
  // never a result from the old data mixed with the new, never a signal. Deterministic: `ess`
  // waits after the open (ESS_TEST_PAUSE_AFTER_OPEN) until the test has changed the file.
  void fileChangedBetweenOpenAndUse_data() {
    QTest::addColumn<QString>("source");  // demo checkpoint, operator file, gpt2 with tokenizer
    QTest::addColumn<QString>("file");    // the file changed, in the copy
    QTest::addColumn<QString>("change");
    QTest::addColumn<QString>("reason");
    QTest::newRow("weights truncated") << "demo"
                                       << "model.safetensors"
                                       << "truncate"
                                       << "it was rewritten: 100 bytes, ";
    QTest::newRow("weights replaced") << "demo"
                                      << "model.safetensors"
                                      << "replace"
                                      << "another file took its name";
    QTest::newRow("weights deleted") << "demo"
                                     << "model.safetensors"
                                     << "delete"
                                     << "it was deleted";
    QTest::newRow("config rewritten") << "demo"
                                      << "config.json"
                                      << "append"
                                      << "it was rewritten: ";
    QTest::newRow("operator file truncated") << "operator"
                                             << "op.safetensors"
                                             << "truncate"
                                             << "it was rewritten: 100 bytes, ";
    QTest::newRow("tokenizer replaced before its first use") << "gpt2"
                                                             << "tokenizer.json"
                                                             << "replace"
                                                             << "another file took its name";
  }
  void fileChangedBetweenOpenAndUse() {
    QFETCH(QString, source);
    QFETCH(QString, file);
    QFETCH(QString, change);
    QFETCH(QString, reason);
    QTemporaryDir dir;
    const QString copy = dir.filePath("ckpt");
    QStringList args{"curve"};
    if (source == "demo") {
      copyFolder(demo(), copy);
      args << copy << "--layer"
           << "all";
    } else if (source == "operator") {
      QDir().mkpath(copy);
      QVERIFY(QFile::copy(data("softmax_attention_h2_L64.safetensors"), copy + "/op.safetensors"));
      args << copy + "/op.safetensors";
    } else {
      copyFolder(data("hf/gpt2_torch"), copy);
      args << copy << "--layer"
           << "0"
           << "--input"
           << "text:the cat";
    }
    const QString path = copy + "/" + file;
    QVERIFY(QFile::exists(path));
    // Unchanged, the paused run gives what a plain run gives.
    const Run plain = essRun(args);
    QCOMPARE(plain.status, 0);
    const Run same = essChangedAfterOpen(args, [] {});
    QCOMPARE(same.status, 0);
    QCOMPARE(same.out, plain.out);

    const Run r = essChangedAfterOpen(args, [&] {
      if (change == "truncate") {
        QVERIFY(QFile::resize(path, 100));
      } else if (change == "append") {
        QFile f(path);
        QVERIFY(f.open(QIODevice::Append));
        f.write("\n");
      } else if (change == "replace") {
        QVERIFY(replaceByRename(path, QByteArray(4096, 'x')));
      } else {
        QVERIFY(QFile::remove(path));
      }
    });
    QCOMPARE(r.status, 1);
    const QString expected = path + ": the file changed on disk since it was opened (" + reason;
    QVERIFY2(r.err.contains(expected), qPrintable(r.err));
    QVERIFY2(r.err.contains("; reopen it"), qPrintable(r.err));
    QVERIFY2(r.out.isEmpty(), qPrintable(r.out));  // nothing computed from the old data was written
    QVERIFY(!hasLibraryWords(r.err));
  }

  // The output's disk full part way (write(2) failing with EFBIG under RLIMIT_FSIZE): exit 1
  // with the file and the reason, the previous file at the path left as it was, no temporary
  // file left beside it.
  void outputFileFullPartWay_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QStringList>("args");
    QTest::newRow("curve csv") << "out.csv" << QStringList{"curve", data("identity_L16.safetensors")};
    QTest::newRow("curve json") << "out.json"
                                << QStringList{"curve", data("identity_L16.safetensors"), "--format", "json"};
    QTest::newRow("operator") << "op.safetensors" << QStringList{"operator", demo(), "--layer", "0"};
    QTest::newRow("convert") << "conv.safetensors" << QStringList{"convert", data("identity_L16.safetensors")};
    QTest::newRow("render png") << "fig.png"
                                << QStringList{"render", data("identity_L16.safetensors"), "--figure", "heatmap"};
    QTest::newRow("render pdf") << "fig.pdf"
                                << QStringList{"render", data("identity_L16.safetensors"), "--figure", "curve"};
    QTest::newRow("render svg") << "fig.svg"
                                << QStringList{"render", data("identity_L16.safetensors"), "--figure", "spectrum"};
  }
  void outputFileFullPartWay() {
    QFETCH(QString, name);
    QFETCH(QStringList, args);
    QTemporaryDir dir;
    const QString out = dir.filePath(name);
    // Unlimited; then the disk holds half of that.
    const Run full = essRun(args + QStringList{"-o", out});
    QCOMPARE(full.status, 0);
    QVERIFY(QFileInfo(out).size() > 100);
    const rlim_t limit = rlim_t(QFileInfo(out).size() / 2);
    const QByteArray before = sha256(out);
    const Run r = essWithFileSizeLimit(args + QStringList{"-o", out}, limit);
    QCOMPARE(r.status, 1);
    // One line, the file and the reason in errno's words (libpng printed "Write Error" here).
    QCOMPARE(r.err.trimmed().count('\n'), 0);
    QVERIFY2(r.err.contains(out + ": cannot write: File too large"), qPrintable(r.err));
    QVERIFY2(!hasLibraryWords(r.err), qPrintable(r.err));
    QCOMPARE(sha256(out), before);
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden), QStringList{name});
    // A new path: nothing at all is left.
    QVERIFY(QFile::remove(out));
    QCOMPARE(essWithFileSizeLimit(args + QStringList{"-o", out}, limit).status, 1);
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden), QStringList{});
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

  // Ctrl+C during `ess curve --layer all` on a model: a real SIGINT, sent while the test binary
  // is held at the forward pass of layer 1 (layer 0's curves done), stops it at the next cancel
  // point: exit 130, one line saying so, no -o file and nothing else left in its folder.
  void interruptStopsACurveAndWritesNothing_data() {
    QTest::addColumn<QString>("stage");
    QTest::newRow("forward pass of layer 1") << "forward pass";
    QTest::newRow("after the open") << "opened";
    QTest::newRow("at the start of the first curve") << "curve";
  }
  void interruptStopsACurveAndWritesNothing() {
    QFETCH(QString, stage);
    QTemporaryDir dir;
    const QString out = dir.filePath("curves.json");
    int signal = 0;
    bool sent = false;
    const Run r = essPausing(
        {"curve", demo(), "--layer", "all", "--format", "json", "-o", out}, "ESS_TEST_PAUSE_AT", stage,
        [&](QProcess& p) { sent = ::kill(pid_t(p.processId()), SIGINT) == 0; }, &signal);
    QVERIFY(sent);
    QCOMPARE(signal, 0);
    QCOMPARE(r.status, 130);
    QVERIFY2(r.err.contains("error: interrupted (Ctrl+C); no output was written"), qPrintable(r.err));
    QVERIFY(!hasLibraryWords(r.err));
    QVERIFY(!QFile::exists(out));
    QCOMPARE(QDir(dir.path()).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden), QStringList());
    // Not interrupted, the same run writes the file.
    const Run whole = essRun({"curve", demo(), "--layer", "all", "--format", "json", "-o", out});
    QCOMPARE(whole.status, 0);
    QVERIFY(QFile::exists(out));
  }

  // The shipped `ess` has no test seam: the variables of the test binary do nothing there.
  void shippedBinaryIgnoresTheTestSeams() {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("ESS_TEST_PAUSE_AFTER_OPEN", "1");
    env.insert("ESS_TEST_PAUSE_AT", "opened");
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(ESS_CLI), {"curve", demo(), "--layer", "0"});
    QVERIFY(p.waitForStarted());
    // stdin stays open: a seam that waited for a line would wait here until the bound.
    QVERIFY(p.waitForFinished(120000));
    QCOMPARE(p.exitCode(), 0);
    QVERIFY(!p.readAllStandardError().contains("waiting"));
    QFile bin(QStringLiteral(ESS_CLI));
    QVERIFY(bin.open(QIODevice::ReadOnly));
    const QByteArray bytes = bin.readAll();
    QVERIFY(!bytes.contains("ESS_TEST_PAUSE"));
  }
};

QTEST_GUILESS_MAIN(TestCliRobust)
#include "test_cli_robust.moc"
