// `ess curve A --compare B` and `ess render A --compare B [--diff]` through the real binary: both
// checkpoints' curves in one table with a `checkpoint` column (each equal to its own `ess curve`),
// T_B - T_A drawn exactly as an operator file holding that difference, and checkpoints of
// different layouts refused with exit 1 naming both.
#include <QtTest>

#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <cstring>

#include "cli_test_util.h"

namespace {

using clitest::ess;
using clitest::Run;

const QString kData = QStringLiteral(ESS_TEST_DATA_DIR);
const QString kA = kData + "/gla_d4_L64.safetensors";
const QString kB = kData + "/lti_ssm_n4_L64.safetensors";

/// The `operator` tensor (F64 [H, L, L]) of a safetensors file, row-major; empty on failure.
QVector<double> readOperator(const QString& path, QJsonArray* shape) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  const QByteArray bytes = f.readAll();
  quint64 n = 0;
  std::memcpy(&n, bytes.constData(), 8);
  const QJsonObject header = QJsonDocument::fromJson(bytes.mid(8, int(n))).object();
  const QJsonObject t = header.value("operator").toObject();
  if (t.value("dtype").toString() != "F64") return {};
  *shape = t.value("shape").toArray();
  const QJsonArray offsets = t.value("data_offsets").toArray();
  const qint64 begin = 8 + qint64(n) + offsets[0].toInteger(), end = 8 + qint64(n) + offsets[1].toInteger();
  QVector<double> v(int((end - begin) / 8));
  std::memcpy(v.data(), bytes.constData() + begin, size_t(end - begin));
  return v;
}

/// Writes an operator file holding `values` as F64 `shape`.
bool writeOperator(const QString& path, const QVector<double>& values, const QJsonArray& shape) {
  QJsonObject t{{"dtype", "F64"}, {"shape", shape}, {"data_offsets", QJsonArray{0, qint64(values.size()) * 8}}};
  QByteArray header = QJsonDocument(QJsonObject{{"operator", t}}).toJson(QJsonDocument::Compact);
  while (header.size() % 8) header += ' ';
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) return false;
  const quint64 n = quint64(header.size());
  f.write(reinterpret_cast<const char*>(&n), 8);
  f.write(header);
  f.write(reinterpret_cast<const char*>(values.constData()), qint64(values.size()) * 8);
  return true;
}

QStringList dataLines(const QString& csv) {
  QStringList lines = csv.split('\n', Qt::SkipEmptyParts);
  if (!lines.isEmpty()) lines.removeFirst();
  return lines;
}

}  // namespace

class TestCliCompare : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;

 private Q_SLOTS:
  void curveCompareHasACheckpointColumn() {
    const Run both = ess({"curve", kA, "--compare", kB, "--splits", "1:63:2"});
    QVERIFY2(both.status == 0, qPrintable(both.err));
    QCOMPARE(both.out.section('\n', 0, 0),
             QStringLiteral("checkpoint,step,layer,head,split,tolerance_ess,entropy_ess,tss"));
    QStringList expected;
    for (const QString& path : {kA, kB}) {
      const Run one = ess({"curve", path, "--splits", "1:63:2"});
      QVERIFY2(one.status == 0, qPrintable(one.err));
      for (const QString& line : dataLines(one.out)) expected << path.section('/', -1) + ",," + line;  // no step
    }
    QCOMPARE(dataLines(both.out), expected);
    QCOMPARE(int(expected.size()), 64);  // 32 splits of each
    QStringList valuesA = expected.mid(0, 32), valuesB = expected.mid(32);
    for (QString& line : valuesA) line = line.section(',', 2);
    for (QString& line : valuesB) line = line.section(',', 2);
    QVERIFY(valuesA != valuesB);  // two different checkpoints

    // Totals too, and JSON: {"checkpoints": [A, B]}.
    const Run total = ess({"curve", kA, "--compare", kB, "--aggregate", "total", "--format", "json"});
    QVERIFY2(total.status == 0, qPrintable(total.err));
    const QJsonArray checkpoints = QJsonDocument::fromJson(total.out.toUtf8()).object().value("checkpoints").toArray();
    QCOMPARE(int(checkpoints.size()), 2);
    QCOMPARE(checkpoints[0].toObject().value("checkpoint").toString(), QStringLiteral("gla_d4_L64.safetensors"));
    QCOMPARE(checkpoints[1].toObject().value("checkpoint").toString(), QStringLiteral("lti_ssm_n4_L64.safetensors"));
    const Run aloneB = ess({"curve", kB, "--aggregate", "total", "--format", "json"});
    QJsonObject b = checkpoints[1].toObject();
    QVERIFY(b.value("step").isNull());  // an operator file: no step
    b.remove("checkpoint");
    b.remove("step");
    QCOMPARE(b, QJsonDocument::fromJson(aloneB.out.toUtf8()).object());
  }

  void stepColumnFromCheckpointNames() {
    // Two checkpoints of a run (the demo twice): the `step` column holds each folder's step.
    const QString run = dir_.filePath("run");
    QVERIFY(QDir().mkpath(run));
    QVERIFY(QFile::link(QStringLiteral(ESS_SOURCE_DIR "/resources/demo/gla"), run + "/step-10"));
    QVERIFY(QFile::link(QStringLiteral(ESS_SOURCE_DIR "/resources/demo/gla"), run + "/checkpoint-20"));
    const QStringList common{"--layer",  "0",       "--head",  "0",
                             "--splits", "1:31:10", "--input", "mqar:seed=1,len=32,pairs=4"};
    const Run both = ess(QStringList{"curve", run + "/step-10", "--compare", run + "/checkpoint-20"} + common);
    QVERIFY2(both.status == 0, qPrintable(both.err));
    const Run one = ess(QStringList{"curve", run + "/step-10"} + common);
    QVERIFY2(one.status == 0, qPrintable(one.err));
    QStringList expected;
    for (const QString& line : dataLines(one.out)) expected << "step-10,10," + line;
    for (const QString& line : dataLines(one.out)) expected << "checkpoint-20,20," + line;
    QCOMPARE(dataLines(both.out), expected);
    QCOMPARE(int(expected.size()), 8);  // splits 1, 11, 21, 31 of each
    const Run j =
        ess(QStringList{"curve", run + "/step-10", "--compare", run + "/checkpoint-20", "--format", "json"} + common);
    QVERIFY2(j.status == 0, qPrintable(j.err));
    const QJsonArray checkpoints = QJsonDocument::fromJson(j.out.toUtf8()).object().value("checkpoints").toArray();
    QCOMPARE(checkpoints[0].toObject().value("step").toInteger(), 10);
    QCOMPARE(checkpoints[1].toObject().value("step").toInteger(), 20);
  }

  void differentLayoutsAreRefusedNamingBoth() {
    const Run heads = ess({"curve", kA, "--compare", kData + "/softmax_attention_h2_L64.safetensors"});
    QCOMPARE(heads.status, 1);
    QVERIFY2(heads.err.contains("error: cannot compare A (gla_d4_L64.safetensors) with B "
                                "(softmax_attention_h2_L64.safetensors): layer 0 has 1 head(s) in A, 2 in B"),
             qPrintable(heads.err));
    QVERIFY(heads.out.isEmpty());
    const Run length = ess({"render", kA, "--figure", "curve", "--compare", kData + "/identity_L16.safetensors", "-o",
                            dir_.filePath("never.png")});
    QCOMPARE(length.status, 1);
    QVERIFY2(length.err.contains("error: cannot compare A (gla_d4_L64.safetensors) with B (identity_L16.safetensors): "
                                 "the input gives L = 64 in A, L = 16 in B"),
             qPrintable(length.err));
    QVERIFY(!QFile::exists(dir_.filePath("never.png")));
    // Usage: --diff needs --compare and the heatmap; --compare does not draw a spectrum.
    QCOMPARE(ess({"render", kA, "--figure", "heatmap", "--diff", "-o", dir_.filePath("x.png")}).status, 2);
    QCOMPARE(ess({"render", kA, "--figure", "spectrum", "--compare", kB, "-o", dir_.filePath("x.png")}).status, 2);
  }

  void renderDiffDrawsTheDifference() {
    QJsonArray shape, shapeB;
    const QVector<double> ta = readOperator(kA, &shape), tb = readOperator(kB, &shapeB);
    QCOMPARE(int(ta.size()), 64 * 64);
    QCOMPARE(shape, shapeB);
    QVector<double> diff(ta.size());
    for (int i = 0; i < ta.size(); ++i) diff[i] = tb[i] - ta[i];
    const QString diffFile = dir_.filePath("diff.safetensors");
    QVERIFY(writeOperator(diffFile, diff, shape));

    const QString drawn = dir_.filePath("drawn.png"), expected = dir_.filePath("expected.png");
    const Run r =
        ess({"render", kA, "--figure", "heatmap", "--compare", kB, "--diff", "--title", "T_B - T_A", "-o", drawn});
    QVERIFY2(r.status == 0, qPrintable(r.err));
    const Run e = ess({"render", diffFile, "--figure", "heatmap", "--colormap", "diverging", "--range", "symmetric",
                       "--title", "T_B - T_A", "-o", expected});
    QVERIFY2(e.status == 0, qPrintable(e.err));
    const QImage a(drawn), b(expected), plain = [&] {
      const QString p = dir_.filePath("plain.png");
      ess({"render", kB, "--figure", "heatmap", "--colormap", "diverging", "--range", "symmetric", "--title",
           "T_B - T_A", "-o", p});
      return QImage(p);
    }();
    QVERIFY(!a.isNull() && a.size() == b.size());
    QVERIFY(a == b);
    QVERIFY(a != plain);  // T_B alone draws otherwise
  }

  void renderOverlaysNameBoth() {
    for (const char* figure : {"curve", "position", "layers"}) {
      const QString out = dir_.filePath(QString("overlay_%1.svg").arg(figure));
      const Run r = ess({"render", kA, "--figure", figure, "--compare", kB, "-o", out});
      QVERIFY2(r.status == 0, qPrintable(r.err));
      QFile f(out);
      QVERIFY(f.open(QIODevice::ReadOnly));
      QVERIFY(f.size() > 1000);
      const Run single = ess({"render", kA, "--figure", figure, "-o", dir_.filePath("single.svg")});
      QVERIFY2(single.status == 0, qPrintable(single.err));
      QFile g(dir_.filePath("single.svg"));
      QVERIFY(g.open(QIODevice::ReadOnly));
      QVERIFY2(f.readAll() != g.readAll(), figure);
    }
  }
};

QTEST_GUILESS_MAIN(TestCliCompare)
#include "test_cli_compare.moc"
