// Library failures during computation in the GUI's Document (issue 12), on the offscreen
// platform: an allocation LibTorch (c10::Error) or the C++ library (std::bad_alloc) cannot make
// while a curve is computed arrives as errorOccurred with one sentence naming the file, the
// layer, the work and the input, and the document stays open and usable.
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "../qt_safetensors.h"
#include "document.h"

namespace {

constexpr int kTimeout = 120000;
const QString kNoMemory =
    QStringLiteral(": not enough memory on this machine; lower the budget or use a shorter input");

bool hasLibraryWords(const QString& s) {
  for (const char* w : {"c10", "enforce fail", "alloc_cpu", "Expected", "bad_alloc", "std::", "frame #", "\n"})
    if (s.contains(QLatin1String(w))) return true;
  return false;
}

/// The Qwen2 fixture claiming a context of 1e8 tokens (see test_cli_compute_errors.cpp).
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

using testfiles::overflowingOperatorFile;

bool openAndWait(Document& doc, const QString& path) {
  QSignalSpy opened(&doc, &Document::opened);
  doc.open(path);
  return opened.wait(kTimeout);
}

}  // namespace

class TestGuiComputeErrors : public QObject {
  Q_OBJECT
 private slots:
  void libTorchAllocationFailureDuringACurve() {
    QTemporaryDir dir;
    const QString model = qwen2WithLongContext(dir);
    Document doc;
    QVERIFY(openAndWait(doc, model));
    doc.setMemoryBudget(qint64(1) << 50);
    const QString input = QStringLiteral("random:seed=0,len=300000");
    QSignalSpy inputChanged(&doc, &Document::inputChanged);
    doc.setInput(input);
    QVERIFY(inputChanged.wait(kTimeout));
    QSignalSpy errors(&doc, &Document::errorOccurred);
    doc.requestCurve(0);
    QVERIFY(errors.wait(kTimeout));
    const QString message = errors.first().first().toString();
    QCOMPARE(message, model + ": layer 0 (softmax_attention), computing the ESS curves, input " + input + kNoMemory);
    QVERIFY2(!hasLibraryWords(message), qPrintable(message));
    // Still open: a short input computes as usual.
    QVERIFY(doc.isOpen());
    doc.setInput(QStringLiteral("random:seed=0,len=16"));
    QVERIFY(inputChanged.wait(kTimeout));
    QSignalSpy curves(&doc, &Document::curveReady);
    doc.requestCurve(0);
    QTRY_VERIFY_WITH_TIMEOUT(doc.curveData(0) != nullptr, kTimeout);
    QCOMPARE(doc.curveData(0)->length, 16);
  }

  // A real numerical failure while the curve is computed (entries near the largest double
  // overflow LAPACK's norms; the file opens): one sentence naming the file, the layer and the
  // work, and the document stays open: its operator still comes.
  void numericalFailureDuringACurve() {
    QTemporaryDir dir;
    const QString file = overflowingOperatorFile(dir);
    Document doc;
    QVERIFY(openAndWait(doc, file));
    QSignalSpy errors(&doc, &Document::errorOccurred);
    doc.requestCurve(0);
    QVERIFY(errors.wait(kTimeout));
    const QString message = errors.first().first().toString();
    QVERIFY2(message.startsWith(file + ": layer 0 (") && message.contains("computing the ESS curves: LAPACK"),
             qPrintable(message));
    QVERIFY2(!hasLibraryWords(message), qPrintable(message));
    QVERIFY(doc.isOpen());
    QSignalSpy operators(&doc, &Document::operatorReady);
    doc.requestOperator(0);
    QTRY_VERIFY_WITH_TIMEOUT(doc.operatorData(0) != nullptr, kTimeout);
    QCOMPARE(doc.operatorData(0)->length, 16);
  }
};

QTEST_MAIN(TestGuiComputeErrors)
#include "test_gui_compute_errors.moc"
