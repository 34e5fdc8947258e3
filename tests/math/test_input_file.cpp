// ess/input_file.h and the safetensors reader on files that are not what they seem (issue 12):
// FIFOs and devices refused without blocking, errno's reason for every open failure, and a
// file truncated or replaced between open and a later read reported as changed on disk;
// arrays read before a file changes stay valid afterwards (no mapping can fault).
#include <sys/stat.h>
#include <unistd.h>

#include <QtTest>

#include <QTemporaryDir>
#include <cstring>
#include <fstream>
#include <string>

#include "ess/error.h"
#include "ess/input_file.h"
#include "ess/safetensors_io.h"

namespace {

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

}  // namespace

class TestInputFile : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void refusesNonRegularFilesWithoutBlocking() {
    QTemporaryDir dir;
    const std::string fifo = dir.filePath("f.safetensors").toStdString();
    QCOMPARE(::mkfifo(fifo.c_str(), 0600), 0);
    std::string msg = inputError([&] { ess::InputFile f(fifo, "safetensors file"); });
    QVERIFY2(msg == fifo + ": is a FIFO (named pipe), not a safetensors file", msg.c_str());
    msg = inputError([&] { ess::readSafetensorArrays(fifo); });
    QVERIFY2(msg == fifo + ": is a FIFO (named pipe), not a safetensors file", msg.c_str());
    msg = inputError([&] { ess::InputFile f("/dev/null", "safetensors file"); });
    QVERIFY2(msg == "/dev/null: is a device, not a safetensors file", msg.c_str());
    msg = inputError([&] { ess::InputFile f(dir.path().toStdString(), "JSON file"); });
    QVERIFY2(contains(msg, ": is a directory, not a JSON file"), msg.c_str());
  }

  void openFailuresGiveTheReason() {
    QTemporaryDir dir;
    const std::string missing = dir.filePath("nope.json").toStdString();
    QCOMPARE(inputError([&] { ess::InputFile f(missing, "JSON file"); }), missing + ": no such file");
    const std::string a = dir.filePath("a").toStdString(), b = dir.filePath("b").toStdString();
    QCOMPARE(::symlink(b.c_str(), a.c_str()), 0);
    QCOMPARE(::symlink(a.c_str(), b.c_str()), 0);
    QCOMPARE(inputError([&] { ess::InputFile f(a, "JSON file"); }), a + ": cannot open: " + std::strerror(ELOOP));
    const std::string longName = dir.filePath(QString(300, QLatin1Char('x'))).toStdString();
    QCOMPARE(inputError([&] { ess::InputFile f(longName, "JSON file"); }),
             longName + ": cannot open: " + std::strerror(ENAMETOOLONG));
    const std::string notDir = dir.filePath("plain").toStdString();
    writeText(notDir, "x");
    QCOMPARE(inputError([&] { ess::InputFile f(notDir + "/config.json", "JSON file"); }),
             notDir + "/config.json: cannot open: " + std::strerror(ENOTDIR));
    if (::geteuid() != 0) {  // root reads through any permission
      const std::string locked = dir.filePath("locked").toStdString();
      QCOMPARE(::mkdir(locked.c_str(), 0700), 0);
      writeText(locked + "/config.json", "{}");
      QCOMPARE(::chmod(locked.c_str(), 0), 0);
      QCOMPARE(inputError([&] { ess::InputFile f(locked + "/config.json", "JSON file"); }),
               locked + "/config.json: cannot open: " + std::strerror(EACCES));
      ::chmod(locked.c_str(), 0700);
    }
  }

  void readAllChecksTheLimit() {
    QTemporaryDir dir;
    const std::string p = dir.filePath("c.json").toStdString();
    writeText(p, "{\"a\": 1}");
    QCOMPARE(ess::readRegularFile(p, "JSON file", 100), std::string("{\"a\": 1}"));
    const std::string msg = inputError([&] { ess::readRegularFile(p, "JSON file", 4); });
    QVERIFY2(contains(msg, p + ": the file has 8 bytes, more than the 4"), msg.c_str());
  }

  void changesOnDiskAreReported() {
    QTemporaryDir dir;
    const std::string p = dir.filePath("w.bin").toStdString();
    writeText(p, std::string(4096, 'a'));
    {
      ess::InputFile f(p, "weights file");
      QCOMPARE(::truncate(p.c_str(), 100), 0);
      char buf[200];
      const std::string msg = inputError([&] { f.readAt(buf, sizeof buf, 0, "tensor 'w'"); });
      QVERIFY2(contains(msg, p + ": cannot read tensor 'w': the file changed on disk"), msg.c_str());
      QVERIFY(contains(inputError([&] { f.checkUnchanged(); }), "the file changed on disk"));
    }
    {
      ess::InputFile f(p, "weights file");
      // Replaced by another file under the same name (a job saving with rename).
      const std::string other = dir.filePath("other").toStdString();
      writeText(other, std::string(100, 'b'));
      QCOMPARE(::rename(other.c_str(), p.c_str()), 0);
      QVERIFY(
          contains(inputError([&] { f.checkUnchanged(); }), p + ": the file changed on disk while it was being read"));
    }
    {
      ess::InputFile f(p, "weights file");
      f.checkUnchanged();  // untouched: no error
      QCOMPARE(f.size(), uint64_t(100));
    }
  }

  // Arrays are read, not mapped: truncating a file of several MiB after it was read changes
  // nothing in them and cannot raise SIGBUS.
  void arraysSurviveTheFileBeingTruncated() {
    QTemporaryDir dir;
    const std::string p = dir.filePath("big.safetensors").toStdString();
    ess::NamedArrays t;
    ess::Array a(ess::ArrayDType::F64, {512, 1024});  // 4 MiB, above any mapping threshold
    for (int64_t i = 0; i < a.numel(); ++i) a.data<double>()[i] = double(i % 977);
    t.add("w", a);
    ess::writeSafetensorArrays(p, t);
    const ess::NamedArrays back = ess::readSafetensorArrays(p);
    QCOMPARE(::truncate(p.c_str(), 0), 0);
    const ess::Array* w = back.find("w");
    QVERIFY(w);
    double sum = 0;
    for (int64_t i = 0; i < w->numel(); ++i) sum += w->data<double>()[i];
    double expected = 0;
    for (int64_t i = 0; i < a.numel(); ++i) expected += double(i % 977);
    QCOMPARE(sum, expected);
  }
};

QTEST_GUILESS_MAIN(TestInputFile)
#include "test_input_file.moc"
