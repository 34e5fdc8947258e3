// The `ess` command-line contract of DESIGN.md section 6, through the real binary:
// outputs, CSV columns, full-precision numbers, exit statuses, nothing written on failure.
#include <QtTest>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

namespace {

struct Run {
  int status = -1;
  QString out;
  QString err;
};

Run ess(const QStringList& args) {
  QProcess p;
  p.start(QStringLiteral(ESS_CLI), args);
  if (!p.waitForFinished(600000)) return {};
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardOutput()),
          QString::fromUtf8(p.readAllStandardError())};
}

QString data(const QString& name) { return QStringLiteral(ESS_TEST_DATA_DIR "/") + name; }

QString demo() { return QStringLiteral(ESS_SOURCE_DIR "/resources/demo/hybrid"); }

QList<QStringList> csvRows(const QString& text) {
  QList<QStringList> rows;
  for (const QString& line : text.split('\n', Qt::SkipEmptyParts)) rows << line.split(',');
  return rows;
}

}  // namespace

class TestCli : public QObject {
  Q_OBJECT
 private slots:
  void infoOperatorFile() {
    Run r = ess({"info", data("softmax_attention_h2_L64.safetensors"), "--format", "json"});
    QCOMPARE(r.status, 0);
    const QJsonObject j = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(j["architecture"].toString(), QString("operator"));
    const QJsonArray layers = j["layers"].toArray();
    QCOMPARE(layers.size(), 1);
    QCOMPARE(layers[0].toObject()["index"].toInt(), 0);
    QCOMPARE(layers[0].toObject()["heads"].toInt(), 2);
    QVERIFY(layers[0].toObject().contains("mixer"));
    r = ess({"info", data("softmax_attention_h2_L64.safetensors")});
    QCOMPARE(r.status, 0);
    QVERIFY(r.out.contains("architecture: operator"));
  }

  void infoTensorsOfPytorchCheckpoint() {
    Run r = ess({"info", data("pytorch/training_checkpoint_nested.pt"), "--tensors"});
    QCOMPARE(r.status, 0);
    QVERIFY2(r.out.contains("\nmodel/emb.weight F32 [11,6]\n"), qPrintable(r.out));
    QVERIFY(r.out.contains("\nmodel/position_ids I64 [8]\n"));
  }

  void curveCsvMatchesReference() {
    Run r = ess({"curve", data("gla_d4_L64.safetensors")});
    QCOMPARE(r.status, 0);
    const auto rows = csvRows(r.out);
    QCOMPARE(rows[0], QStringList({"layer", "head", "split", "tolerance_ess", "entropy_ess", "tss"}));
    QCOMPARE(rows.size(), 1 + 63);
    // Expected values from the reference file through `ess curve` of the same data: the JSON of
    // the operator round trip below checks the numbers themselves; here the shape of every row.
    for (int i = 1; i < rows.size(); ++i) {
      QCOMPARE(rows[i].size(), 6);
      QCOMPARE(rows[i][0], QString("0"));
      QCOMPARE(rows[i][2].toInt(), i);
      bool ok = false;
      const double tol = rows[i][3].toDouble(&ok);
      QVERIFY(ok && tol >= 0 && tol <= 4);  // GLA with key dimension 4: rank <= 4
      QVERIFY(rows[i][4].toDouble(&ok) >= 0 && ok);
      QCOMPARE(rows[i][5], QString());  // TSS unknown for an operator file
    }
  }

  void curveNumbersAreFullPrecision() {
    // entropy-ESS is rarely a short decimal: full precision prints 15-17 significant digits.
    Run r = ess({"curve", data("lti_ssm_n4_L64.safetensors"), "--splits", "30:30"});
    QCOMPARE(r.status, 0);
    const auto rows = csvRows(r.out);
    QCOMPARE(rows.size(), 2);
    QVERIFY2(rows[1][4].size() >= 15, qPrintable(rows[1][4]));
  }

  void curveOptions() {
    QTemporaryDir dir;
    const QString out = dir.filePath("c.json");
    Run r = ess({"curve", data("softmax_attention_h2_L64.safetensors"), "--head", "1", "--splits", "10:20:5",
                 "--metric", "tolerance", "--normalization", "sum", "--tolerance", "0.01", "--dtype", "float32",
                 "--format", "json", "-o", out});
    QCOMPARE(r.status, 0);
    QVERIFY(r.out.isEmpty());
    QFile f(out);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonObject j = QJsonDocument::fromJson(f.readAll()).object();
    QCOMPARE(j["normalization"].toString(), QString("sum"));
    const QJsonObject head = j["layers"].toArray()[0].toObject()["heads"].toArray()[0].toObject();
    QCOMPARE(head["head"].toInt(), 1);
    QCOMPARE(head["splits"].toArray(), QJsonArray({10, 15, 20}));
    QVERIFY(head.contains("tolerance_ess"));
    QVERIFY(!head.contains("entropy_ess"));
  }

  void outputFollowsSymlinks() {
    QTemporaryDir dir;
    const QString target = dir.filePath("target.csv"), link = dir.filePath("link.csv");
    QVERIFY(QFile::link(target, link));
    Run r = ess({"curve", data("identity_L16.safetensors"), "-o", link});
    QCOMPARE(r.status, 0);
    QVERIFY(QFileInfo(link).isSymLink());
    QFile f(target);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QVERIFY(f.readAll().startsWith("layer,head,split,"));
    r = ess({"curve", data("identity_L16.safetensors"), "-o", dir.path()});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.contains("is a directory"), qPrintable(r.err));
  }

  void hugeSplitStep() {
    Run r = ess({"curve", data("identity_L16.safetensors"), "--splits", "1:15:2147483647"});
    QCOMPARE(r.status, 0);
    QCOMPARE(csvRows(r.out).size(), 2);
  }

  void operatorRoundTrip() {
    QTemporaryDir dir;
    const QString op = dir.filePath("op.safetensors");
    Run r = ess({"operator", data("softmax_attention_h2_L64.safetensors"), "--layer", "0", "--head", "1", "-o", op});
    QCOMPARE(r.status, 0);
    Run a = ess({"curve", op});
    Run b = ess({"curve", data("softmax_attention_h2_L64.safetensors"), "--head", "1"});
    QCOMPARE(a.status, 0);
    QCOMPARE(b.status, 0);
    // Same numbers; only the head column differs (the written file has one head, head 0).
    const auto ra = csvRows(a.out), rb = csvRows(b.out);
    QCOMPARE(ra.size(), rb.size());
    for (int i = 1; i < ra.size(); ++i) {
      QCOMPARE(ra[i].mid(2), rb[i].mid(2));
    }
  }

  void convertRoundTrip() {
    QTemporaryDir dir;
    const QString out = dir.filePath("sd.safetensors");
    Run r = ess({"convert", data("pytorch/state_dict_ordered.pt"), "-o", out});
    QCOMPARE(r.status, 0);
    Run a = ess({"info", out, "--tensors"});
    Run b = ess({"info", data("pytorch/state_dict_ordered.pt"), "--tensors"});
    QCOMPARE(a.status, 0);
    const QString ta = a.out.mid(a.out.indexOf("tensors:")), tb = b.out.mid(b.out.indexOf("tensors:"));
    QCOMPARE(ta, tb);
  }

  void badFilesFailCleanly_data() {
    QTest::addColumn<QString>("file");
    for (const QString& f : QDir(data("bad")).entryList(QDir::Files)) QTest::newRow(qPrintable(f)) << data("bad/" + f);
    QTest::newRow("legacy") << data("pytorch/legacy_format.pt");
    QTest::newRow("missing") << data("no_such_file.safetensors");
  }
  void badFilesFailCleanly() {
    QFETCH(QString, file);
    QTemporaryDir dir;
    const QString out = dir.filePath("out.csv");
    Run r = ess({"curve", file, "-o", out});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.startsWith("error: "), qPrintable(r.err));
    QVERIFY2(r.err.contains(QFileInfo(file).fileName()), qPrintable(r.err));
    QCOMPARE(r.err.count('\n'), 1);
    QVERIFY(!QFile::exists(out));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).size(), 0);
  }

  void usageErrors() {
    for (const QStringList& args : QList<QStringList>{
             {"curve", data("identity_L16.safetensors"), "--metric", "rank"},
             {"curve", data("identity_L16.safetensors"), "--splits", "0:99"},
             {"curve", data("identity_L16.safetensors"), "--layer", "3"},
             {"curve", data("identity_L16.safetensors"), "--bogus"},
             {"operator", data("identity_L16.safetensors"), "--layer", "0"},
             {"frobnicate"}}) {
      Run r = ess(args);
      QCOMPARE(r.status, 2);
      QVERIFY2(r.err.startsWith("error: "), qPrintable(r.err));
    }
  }

  void cudaRefusedClearlyWithoutCuda() {
    Run r = ess({"curve", data("identity_L16.safetensors"), "--device", "cuda"});
    if (r.status == 0) QSKIP("this build has CUDA");
    QCOMPARE(r.status, 2);
    QVERIFY(r.err.contains("--device cuda"));
  }

  void renderFigures() {
    QTemporaryDir dir;
    for (const QString& figure : QStringList{"heatmap", "curve", "spectrum", "layers"})
      for (const QString& ext : QStringList{"png", "pdf", "svg"}) {
        const QString out = dir.filePath(figure + "." + ext);
        Run r = ess({"render", data("softmax_attention_h2_L64.safetensors"), "--figure", figure, "--head", "1",
                     "--split", "20", "-o", out});
        QVERIFY2(r.status == 0, qPrintable(r.err));
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        if (ext == "png") {
          QImage img;
          QVERIFY(img.loadFromData(bytes, "PNG"));
          QCOMPARE(img.width(), 900);
        } else if (ext == "pdf") {
          QVERIFY(bytes.startsWith("%PDF"));
        } else {
          QVERIFY(bytes.contains("<svg"));
        }
      }
  }

  void demoCheckpoint() {
    if (!QFileInfo::exists(demo() + "/config.json")) QSKIP("no demo checkpoint");
    Run info = ess({"info", demo(), "--format", "json"});
    QCOMPARE(info.status, 0);
    const QJsonObject j = QJsonDocument::fromJson(info.out.toUtf8()).object();
    QCOMPARE(j["architecture"].toString(), QString("ess-lm"));
    QVERIFY(j["layers"].toArray().size() >= 2);
    Run r = ess({"curve", demo(), "--input", "mqar:seed=5,len=64,pairs=8"});
    QCOMPARE(r.status, 0);
    const auto rows = csvRows(r.out);
    QVERIFY(rows.size() > 63);
    for (int i = 1; i < rows.size(); ++i) {
      bool ok1 = false, ok2 = false, ok3 = false;
      const double tol = rows[i][3].toDouble(&ok1), ent = rows[i][4].toDouble(&ok2), tss = rows[i][5].toDouble(&ok3);
      QVERIFY(ok1 && ok2 && ok3);
      QVERIFY(std::isfinite(ent) && ent >= 0);
      QVERIFY2(tol <= tss, qPrintable(rows[i].join(',')));
    }
  }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
