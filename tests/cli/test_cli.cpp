// The `ess` command-line contract of docs/definitions.md section 6, through the real binary:
// outputs, CSV columns, full-precision numbers, exit statuses, nothing written on failure.
#include <QtTest>

#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>

#include "cli_test_util.h"

namespace {

using clitest::ess;
using clitest::Run;

QString data(const QString& name) { return QStringLiteral(ESS_TEST_DATA_DIR "/") + name; }

QString demo() { return QStringLiteral(ESS_SOURCE_DIR "/resources/demo/hybrid"); }

/// A generator file (docs/definitions.md section 6) of float64 C, B, log_a [1, L, N], written by hand.
bool writeGeneratorFile(const QString& path, int L, int N) {
  QJsonObject header;
  QByteArray data;
  quint32 state = 12345;
  const auto next = [&state] {
    state = state * 1664525u + 1013904223u;
    return double(state >> 8) / double(1u << 24);
  };
  for (const char* name : {"C", "B", "log_a"}) {
    QVector<double> v(L * N);
    for (double& x : v) x = QByteArray(name) == "log_a" ? -(0.05 * next() + 1e-4) : next();
    const qint64 begin = data.size();
    data.append(reinterpret_cast<const char*>(v.constData()), v.size() * qint64(sizeof(double)));
    header[name] = QJsonObject{
        {"dtype", "F64"}, {"shape", QJsonArray{1, L, N}}, {"data_offsets", QJsonArray{begin, qint64(data.size())}}};
  }
  QByteArray json = QJsonDocument(header).toJson(QJsonDocument::Compact);
  while (json.size() % 8) json.append(' ');
  QByteArray len(8, 0);
  for (int i = 0; i < 8; ++i) len[i] = char((quint64(json.size()) >> (8 * i)) & 0xff);
  QFile f(path);
  return f.open(QIODevice::WriteOnly) && f.write(len + json + data) == 8 + json.size() + data.size();
}

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
    for (const QStringList& args : QList<QStringList>{{"curve", data("identity_L16.safetensors"), "--metric", "rank"},
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

  // Physical sizes: units, the DPI applied once, the PDF page in points, sane ranges.
  void renderPaperSizes() {
    QTemporaryDir dir;
    const QString op = data("softmax_attention_h2_L64.safetensors");
    const QString png = dir.filePath("c.png"), pdf = dir.filePath("c.pdf"), svg = dir.filePath("c.svg");
    Run r =
        ess({"render", op, "--figure", "curve", "--style", "paper", "--width", "3.25in", "--height", "2in", "-o", png});
    QVERIFY2(r.status == 0, qPrintable(r.err));
    QCOMPARE(QImage(png).size(), QSize(975, 600));  // 300 dpi, the paper default
    QCOMPARE(QImage(png).dotsPerMeterX(), int(std::lround(300 / 0.0254)));
    r = ess({"render", op, "--figure", "spectrum", "--width", "8.3cm", "--height", "240pt", "--dpi", "150", "-o", png});
    QVERIFY2(r.status == 0, qPrintable(r.err));
    QCOMPARE(QImage(png).size(), QSize(490, 500));
    r = ess({"render", op, "--figure", "heatmap", "--width", "3.25in", "--height", "3in", "--font-size", "8",
             "--font-family", "DejaVu Sans", "-o", pdf});
    QVERIFY2(r.status == 0, qPrintable(r.err));
    QFile f(pdf);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray bytes = f.readAll();
    const QRegularExpressionMatch box =
        QRegularExpression("/MediaBox \\[0 0 ([0-9.]+) ([0-9.]+)\\]").match(QString::fromLatin1(bytes));
    QVERIFY(box.hasMatch());
    QCOMPARE(box.captured(1).toDouble(), 234.0);  // 3.25 in x 72
    QCOMPARE(box.captured(2).toDouble(), 216.0);
    QVERIFY(bytes.contains("/FontFile2"));  // the glyphs are embedded
    r = ess({"render", op, "--figure", "heatmap", "--width", "3.25in", "-o", svg});
    QVERIFY2(r.status == 0, qPrintable(r.err));
    QFile s(svg);
    QVERIFY(s.open(QIODevice::ReadOnly));
    QVERIFY(s.readAll().contains("width=\"82.55mm\""));
    // Out of range or malformed: usage errors (exit 2), naming the option.
    for (const QStringList& bad :
         {QStringList{"--dpi", "0"}, QStringList{"--dpi", "100000"}, QStringList{"--width", "0.1in"},
          QStringList{"--width", "500in"}, QStringList{"--width", "3furlongs"}, QStringList{"--height", "-2cm"},
          QStringList{"--width", "30000", "--dpi", "2400"}, QStringList{"--style", "poster"},
          QStringList{"--font-size", "0"}, QStringList{"--colormap", "jet"}, QStringList{"--range", "p20"}}) {
      Run u = ess(QStringList{"render", op, "--figure", "heatmap", "-o", png} + bad);
      QVERIFY2(u.status == 2, qPrintable(bad.join(' ') + ": " + u.err));
      QVERIFY2(u.err.contains(bad.first()), qPrintable(u.err));
    }
    Run curveMap = ess({"render", op, "--figure", "curve", "--colormap", "magma", "-o", png});
    QCOMPARE(curveMap.status, 2);
    // The help names every option with its unit.
    Run help = ess({"render", "--help"});
    QCOMPARE(help.status, 0);
    for (const char* option :
         {"--width LEN",  "--height LEN",  "--dpi N",       "--style", "--font-size PT", "--font-family",
          "--colormap",   "--range",       "--mask-upper",  "--title", "3.25in",         "8.3cm",
          "240pt",        "points",        "dots per inch", "--panel", "grid",           "--memory-budget GIB",
          "--input SPEC", "--tolerance X", "glyph outlines"})
      QVERIFY2(help.out.contains(option), option);
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

  // flash-linear-attention checkpoints (tests/data/hf/*_torch): `ess info` names each layer's
  // kind and its value channels, `ess curve` gives every channel's curve, tolerance-ESS <= TSS.
  void linearAttentionCheckpoints_data() {
    QTest::addColumn<QString>("fixture");
    QTest::addColumn<QString>("kind");
    QTest::addColumn<int>("channels");
    QTest::newRow("gla") << "gla_torch"
                         << "gla" << 16;
    QTest::newRow("retnet") << "retnet_torch"
                            << "retnet" << 16;
    QTest::newRow("delta_net") << "delta_net_torch"
                               << "delta_net" << 16;
    QTest::newRow("gated_deltanet") << "gated_deltanet_torch"
                                    << "gated_deltanet" << 16;
  }
  void linearAttentionCheckpoints() {
    QFETCH(QString, fixture);
    QFETCH(QString, kind);
    QFETCH(int, channels);
    const QString dir = data("hf/" + fixture);
    Run info = ess({"info", dir, "--format", "json"});
    QVERIFY2(info.status == 0, qPrintable(info.err));
    const QJsonObject j = QJsonDocument::fromJson(info.out.toUtf8()).object();
    QCOMPARE(j["architecture"].toString(), kind);
    const QJsonArray layers = j["layers"].toArray();
    QCOMPARE(layers.size(), 2);
    for (const QJsonValue& l : layers) {
      QCOMPARE(l.toObject()["mixer"].toString(), kind);
      QCOMPARE(l.toObject()["heads"].toInt(), channels);
      QCOMPARE(l.toObject()["value_channels"].toInt(), 1);
    }
    Run text = ess({"info", dir});
    QVERIFY2(text.status == 0 && text.out.contains(kind), qPrintable(text.out));
    Run r = ess({"curve", dir, "--input", "tokens:1,31,7,7,0,12,25,3,9,18,30,2", "--layer", "1"});
    QVERIFY2(r.status == 0, qPrintable(r.err));
    const auto rows = csvRows(r.out);
    QCOMPARE(rows.size(), 1 + channels * 11);
    for (int i = 1; i < rows.size(); ++i) {
      QCOMPARE(rows[i][0], QString("1"));
      const double tol = rows[i][3].toDouble(), tss = rows[i][5].toDouble();
      QCOMPARE(tss, kind == "delta_net" ? 8.0 : 4.0);  // d_k per value channel
      QVERIFY2(tol >= 0 && tol <= tss, qPrintable(rows[i].join(',')));
    }
  }

  // A hybrid (tests/data/hf/lfm2_torch): `ess info` lists each layer's kind and heads, `ess
  // curve` gives each layer's rows with its own TSS.
  void hybridCheckpointListsLayerKinds() {
    const QString dir = data("hf/lfm2_torch");
    Run info = ess({"info", dir, "--format", "json"});
    QVERIFY2(info.status == 0, qPrintable(info.err));
    const QJsonArray layers = QJsonDocument::fromJson(info.out.toUtf8()).object()["layers"].toArray();
    QCOMPARE(layers.size(), 3);
    QCOMPARE(layers[0].toObject()["mixer"].toString(), QString("short_conv"));
    QCOMPARE(layers[0].toObject()["heads"].toInt(), 16);
    QCOMPARE(layers[1].toObject()["mixer"].toString(), QString("softmax_attention"));
    QCOMPARE(layers[1].toObject()["heads"].toInt(), 4);
    Run text = ess({"info", dir});
    QVERIFY2(text.status == 0 && text.out.contains("short_conv") && text.out.contains("softmax_attention"),
             qPrintable(text.out));
    for (const QString& layer : {QString("0"), QString("1")}) {
      Run r = ess({"curve", dir, "--input", "tokens:1,31,7,7,0,12,25,3,9,18,30,2", "--layer", layer});
      QVERIFY2(r.status == 0, qPrintable(r.err));
      const auto rows = csvRows(r.out);
      QCOMPARE(rows.size(), 1 + (layer == "0" ? 16 : 4) * 11);
      for (int i = 1; i < rows.size(); ++i) {
        const double tol = rows[i][3].toDouble(), tss = rows[i][5].toDouble();
        QVERIFY2(tol >= 0 && tol <= tss + 1e-9, qPrintable(rows[i].join(',')));
        if (layer == "0") QCOMPARE(tss, 2.0);
      }
    }
  }

  // `--aggregate total`: one row per split with head `total`, the sum of the chosen heads'
  // rows times the layer's value channels (docs/definitions.md section 1), the summed TSS and a trailing
  // utilization = tolerance-ESS / TSS.
  void curveAggregateTotalSumsHeads() {
    if (!QFileInfo::exists(demo() + "/config.json")) QSKIP("no demo checkpoint");
    Run info = ess({"info", demo(), "--format", "json"});
    QCOMPARE(info.status, 0);
    const QJsonArray layersJson = QJsonDocument::fromJson(info.out.toUtf8()).object()["layers"].toArray();
    const QStringList input{"--input", "mqar:seed=2,len=48,pairs=6", "--layer", "1"};
    Run perHead = ess(QStringList{"curve", demo()} + input);
    Run total = ess(QStringList{"curve", demo(), "--aggregate", "total"} + input);
    QCOMPARE(perHead.status, 0);
    QVERIFY2(total.status == 0, qPrintable(total.err));
    const auto ph = csvRows(perHead.out), tr = csvRows(total.out);
    QCOMPARE(tr[0], QStringList({"layer", "head", "split", "tolerance_ess", "entropy_ess", "tss", "utilization"}));
    QCOMPARE(tr.size(), 1 + 47);
    // Value channels of layer 1 from `ess curve --format json` (also in `ess info`'s heads x d_v).
    Run js = ess(QStringList{"curve", demo(), "--format", "json", "--splits", "1:1"} + input);
    const int dv =
        QJsonDocument::fromJson(js.out.toUtf8()).object()["layers"].toArray()[0].toObject()["value_channels"].toInt();
    QVERIFY(dv >= 1);
    const int heads = layersJson[1].toObject()["heads"].toInt();
    QCOMPARE(ph.size(), 1 + heads * 47);
    for (int i = 1; i < tr.size(); ++i) {
      QCOMPARE(tr[i][0], QString("1"));
      QCOMPARE(tr[i][1], QString("total"));
      QCOMPARE(tr[i][2].toInt(), i);
      double tol = 0, ent = 0, tss = 0;
      for (int h = 0; h < heads; ++h) {
        const QStringList& row = ph[1 + h * 47 + (i - 1)];
        QCOMPARE(row[1].toInt(), h);
        QCOMPARE(row[2].toInt(), i);
        tol += dv * row[3].toDouble();
        ent += dv * row[4].toDouble();
        tss += dv * row[5].toDouble();
      }
      QCOMPARE(tr[i][3].toDouble(), tol);
      QVERIFY(std::abs(tr[i][4].toDouble() - ent) <= 1e-12 * ent);
      QVERIFY(std::abs(tr[i][5].toDouble() - tss) <= 1e-12 * tss);
      QVERIFY(std::abs(tr[i][6].toDouble() - tol / tss) <= 1e-12);
      QVERIFY(tr[i][6].toDouble() > 0 && tr[i][6].toDouble() <= 1);
    }
    // JSON likewise: head "total", its members and the utilization.
    Run tj = ess(QStringList{"curve", demo(), "--aggregate", "total", "--head", "0:0", "--format", "json"} + input);
    QCOMPARE(tj.status, 0);
    const QJsonObject t = QJsonDocument::fromJson(tj.out.toUtf8())
                              .object()["layers"]
                              .toArray()[0]
                              .toObject()["heads"]
                              .toArray()[0]
                              .toObject();
    QCOMPARE(t["head"].toString(), QString("total"));
    QCOMPARE(t["members"].toArray(), QJsonArray{QJsonValue(0)});
    QCOMPARE(t["tolerance_ess"].toArray()[9].toDouble(), dv * ph[10][3].toDouble());
    QCOMPARE(t["utilization"].toArray().size(), 47);
  }

  // A channel-type layer (short_conv: one operator per channel, d_v = 1) and `--head A:B`.
  void curveChannelGroupOfShortConv() {
    QTemporaryDir dir;
    const QString ckpt = dir.filePath("sc");
    Run train = ess({"train-mqar", "--mixer",        "short_conv", "--layers",      "1",  "--d-model", "32", "--steps",
                     "1",          "--batch",        "2",          "--length",      "16", "--pairs",   "2",  "--vocab",
                     "16",         "--eval-samples", "2",          "--conv-kernel", "4",  "--out",     ckpt});
    QVERIFY2(train.status == 0, qPrintable(train.err));
    Run perHead = ess({"curve", ckpt, "--head", "8:15", "--input", "random:seed=1,len=16"});
    Run total = ess({"curve", ckpt, "--head", "8:15", "--aggregate", "total", "--input", "random:seed=1,len=16"});
    QVERIFY2(perHead.status == 0, qPrintable(perHead.err));
    QVERIFY2(total.status == 0, qPrintable(total.err));
    const auto ph = csvRows(perHead.out), tr = csvRows(total.out);
    QCOMPARE(ph.size(), 1 + 8 * 15);  // channels 8..15 inclusive
    QCOMPARE(ph[1][1], QString("8"));
    QCOMPARE(ph.last()[1], QString("15"));
    QCOMPARE(tr.size(), 1 + 15);
    for (int i = 1; i < tr.size(); ++i) {
      double tol = 0;
      for (int c = 0; c < 8; ++c) {
        QCOMPARE(ph[1 + c * 15 + (i - 1)][5], QString("3"));  // k - 1 per channel
        tol += ph[1 + c * 15 + (i - 1)][3].toDouble();
      }
      QCOMPARE(tr[i][3].toDouble(), tol);
      QCOMPARE(tr[i][5], QString("24"));  // 8 channels x (k - 1)
      QCOMPARE(tr[i][6].toDouble(), tol / 24);
    }
    // Operator files have no TSS: the total's tss and utilization stay empty.
    Run op = ess({"curve", data("softmax_attention_h2_L64.safetensors"), "--aggregate", "total", "--splits", "5:5"});
    QCOMPARE(op.status, 0);
    const auto rows = csvRows(op.out);
    QCOMPARE(rows.size(), 2);
    QCOMPARE(rows[1].size(), 7);
    QCOMPARE(rows[1][1], QString("total"));
    QCOMPARE(rows[1][5], QString());
    QCOMPARE(rows[1][6], QString());
    // Bad head ranges and aggregate values are usage errors.
    for (const QStringList& args : QList<QStringList>{
             {"--head", "1:0"}, {"--head", "0:2"}, {"--head", "a:b"}, {"--head", "3"}, {"--aggregate", "mean"}}) {
      Run r = ess(QStringList{"curve", data("softmax_attention_h2_L64.safetensors")} + args);
      QCOMPARE(r.status, 2);
      QVERIFY2(r.err.startsWith("error: "), qPrintable(r.err));
    }
  }

  // Small multiples: a panel per (layer, head), each drawn as a colour map (an <image> in the
  // SVG, beside the one colour bar), the PNG exactly the size asked for.
  void renderGrid() {
    QTemporaryDir dir;
    const auto images = [](const QString& svg) {
      QFile f(svg);
      return f.open(QIODevice::ReadOnly) ? int(f.readAll().count("<image")) : -1;
    };
    const QString op = data("softmax_attention_h2_L64.safetensors"), gpt2 = data("hf/gpt2_torch");
    Run r =
        ess({"render", op, "--figure", "grid", "--style", "paper", "--width", "3.25in", "-o", dir.filePath("g.png")});
    QVERIFY2(r.status == 0, qPrintable(r.err));
    const QImage png(dir.filePath("g.png"));
    QCOMPARE(png.width(), 975);
    QVERIFY(png.height() > 300 && png.height() < 975);  // one row of two square panels
    r = ess({"render", op, "--figure", "grid", "--width", "3.25in", "--height", "2.5in", "--dpi", "200", "-o",
             dir.filePath("h.png")});
    QVERIFY2(r.status == 0, qPrintable(r.err));
    QCOMPARE(QImage(dir.filePath("h.png")).size(), QSize(650, 500));
    r = ess({"render", op, "--figure", "grid", "--head", "all", "-o", dir.filePath("op.svg")});
    QVERIFY2(r.status == 0, qPrintable(r.err));
    QCOMPARE(images(dir.filePath("op.svg")), 2 + 1);  // 1 layer x 2 heads, and the colour bar
    r = ess({"render", gpt2, "--figure", "grid", "--layer", "all", "--head", "all", "--scale", "log", "-o",
             dir.filePath("gpt2.svg")});
    QVERIFY2(r.status == 0, qPrintable(r.err));
    QCOMPARE(images(dir.filePath("gpt2.svg")), 2 * 2 + 1);  // 2 layers x 2 heads
    r = ess({"render", gpt2, "--figure", "grid", "--layer", "1", "--head", "1", "-o", dir.filePath("one.svg")});
    QVERIFY2(r.status == 0, qPrintable(r.err));
    QCOMPARE(images(dir.filePath("one.svg")), 1 + 1);
    r = ess({"render", gpt2, "--figure", "grid", "--panel", "curve", "--style", "paper", "-o", dir.filePath("c.pdf")});
    QVERIFY2(r.status == 0, qPrintable(r.err));
    QFile pdf(dir.filePath("c.pdf"));
    QVERIFY(pdf.open(QIODevice::ReadOnly) && pdf.readAll().startsWith("%PDF"));
    // Usage errors (exit 2) naming the option.
    for (const QStringList& bad :
         {QStringList{"--figure", "grid", "--panel", "spectrum"},
          QStringList{"--figure", "heatmap", "--panel", "curve"}, QStringList{"--figure", "grid", "--head", "total"},
          QStringList{"--figure", "grid", "--head", "2"}, QStringList{"--figure", "grid", "--layer", "5"},
          QStringList{"--figure", "grid", "--panel", "curve", "--colormap", "magma"}}) {
      Run u = ess(QStringList{"render", gpt2, "-o", dir.filePath("x.png")} + bad);
      QVERIFY2(u.status == 2, qPrintable(bad.join(' ') + ": " + u.err));
      QVERIFY2(u.err.contains(bad[bad.size() - 2]), qPrintable(u.err));
    }
  }

  void renderAggregates() {
    QTemporaryDir dir;
    for (const QString& head : QStringList{"total", "0:1"})
      for (const QString& figure : QStringList{"heatmap", "curve", "spectrum"}) {
        const QString out = dir.filePath(figure + head.left(1) + ".svg");
        Run r = ess(
            {"render", data("softmax_attention_h2_L64.safetensors"), "--figure", figure, "--head", head, "-o", out});
        QVERIFY2(r.status == 0, qPrintable(r.err));
        QVERIFY(QFileInfo(out).size() > 1000);
      }
    Run r = ess({"render", data("softmax_attention_h2_L64.safetensors"), "--figure", "curve", "--head", "0:5", "-o",
                 dir.filePath("x.svg")});
    QCOMPARE(r.status, 2);
  }

  // A generator file whose dense operator (3000 x 3000 float64, 72 MB) exceeds the memory
  // budget renders its heatmap from an overview tile, and its spectrum without the operator.
  void renderLongGeneratorFromTiles() {
    QTemporaryDir dir;
    const QString gen = dir.filePath("gen_L3000.safetensors");
    QVERIFY(writeGeneratorFile(gen, 3000, 4));
    const QString png = dir.filePath("heat.png");
    Run r = ess({"render", gen, "--figure", "heatmap", "--scale", "log", "--memory-budget", "0.001", "--height", "760",
                 "-o", png});
    QVERIFY2(r.status == 0, qPrintable(r.err));
    QImage img(png);
    QCOMPARE(img.size(), QSize(900, 760));
    QSet<QRgb> colours;
    for (int y = 0; y < img.height(); y += 5)
      for (int x = 0; x < img.width(); x += 5) colours.insert(img.pixel(x, y));
    QVERIFY(colours.size() > 50);  // a colour map, not an empty plot
    r = ess({"render", gen, "--figure", "spectrum", "--split", "1500", "--memory-budget", "0.001", "-o",
             dir.filePath("spec.svg")});
    QVERIFY2(r.status == 0, qPrintable(r.err));
    // The grid of its one head, from an overview tile, and the colour bar.
    r = ess({"render", gen, "--figure", "grid", "--scale", "log", "--memory-budget", "0.001", "-o",
             dir.filePath("grid.svg")});
    QVERIFY2(r.status == 0, qPrintable(r.err));
    QFile grid(dir.filePath("grid.svg"));
    QVERIFY(grid.open(QIODevice::ReadOnly));
    QCOMPARE(int(grid.readAll().count("<image")), 1 + 1);
    // A budget that is not a positive size is a usage error.
    r = ess({"render", gen, "--figure", "heatmap", "--memory-budget", "0", "-o", dir.filePath("x.png")});
    QCOMPARE(r.status, 2);
    QVERIFY(!QFile::exists(dir.filePath("x.png")));
    // Curves of generator files need no dense operator: any budget works; `ess operator`
    // (a dense output) is refused with what fits, and writes nothing.
    r = ess({"curve", gen, "--splits", "1::500", "--memory-budget", "0.001"});
    QVERIFY2(r.status == 0, qPrintable(r.err));
    QCOMPARE(r.out.count('\n'), 1 + 6);  // header + splits 1, 501, ..., 2501
    const QString op = dir.filePath("op.safetensors");
    r = ess({"operator", gen, "--layer", "0", "--memory-budget", "0.001", "-o", op});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.contains("gen_L3000.safetensors") && r.err.contains("at most L ="), qPrintable(r.err));
    QVERIFY(!QFile::exists(op));
  }

  void textInputOfHfCheckpointUsesItsTokenizer() {
    // tests/data/hf/gpt2_torch/tokenizer.json: 32 tokens (its vocab_size), merges t h, Ġ th, Ġth e.
    const QString dir = data("hf/gpt2_torch");
    Run text = ess({"curve", dir, "--input", "text:the cat. the end"});
    QCOMPARE(text.status, 0);
    Run ids = ess({"curve", dir, "--input", "tokens:29,4,26,2,0,19,28,31,26,4,13,3"});
    QCOMPARE(ids.status, 0);
    QCOMPARE(text.out, ids.out);
    QCOMPARE(csvRows(text.out).last()[2], QString("11"));  // 12 tokens: splits 1..11
    // "the" is 2 tokens, each " the" 1: 18 tokens, over n_positions 16.
    Run longText =
        ess({"curve", dir, "--input", "text:the the the the the the the the the the the the the the the the the"});
    QCOMPARE(longText.status, 1);
    QVERIFY2(longText.err.contains("18 tokens") && longText.err.contains("context of 16"), qPrintable(longText.err));
    // SentencePiece tokenizer.model (llama_spm_torch, the 320-piece spm_tiny model): read by
    // libsentencepiece in the ess process next to LibTorch, BOS (id 1) first as
    // tokenizer_config.json asks; the ids are those libsentencepiece gave when it trained it.
    Run renderHelp = ess({"render", "--help"});
    QCOMPARE(renderHelp.status, 0);
    QVERIFY2(renderHelp.out.contains("render FILE --figure") && !renderHelp.out.contains("train-mqar"),
             qPrintable(renderHelp.out));
    Run twice = ess({"curve", dir, "--input", "text:a b", "--input", "text:c d"});
    QCOMPARE(twice.status, 2);
    QVERIFY2(twice.err.contains("--input given twice"), qPrintable(twice.err));
    Run oneToken = ess({"curve", dir, "--input", "text:a"});
    QCOMPARE(oneToken.status, 1);
    QVERIFY2(oneToken.err.contains("1 token") && oneToken.err.contains("at least 2"), qPrintable(oneToken.err));
    // The rest needs libsentencepiece (tokenizer.model); gpt2's tokenizer.json above does not.
    Run spmInfo = ess({"info", data("hf/llama_spm_torch")});
    QCOMPARE(spmInfo.status, 0);
    QVERIFY2(spmInfo.out.contains("tokenizer: ") && spmInfo.out.contains("tokenizer.model (320 tokens)"),
             qPrintable(spmInfo.out));
    Run spm = ess({"curve", data("hf/llama_spm_torch"), "--input", "text:the cat sat on the mat"});
    QCOMPARE(spm.status, 0);
    Run spmIds =
        ess({"curve", data("hf/llama_spm_torch"), "--input", "tokens:1,283,300,319,259,266,259,300,308,305,283,295"});
    QCOMPARE(spmIds.status, 0);
    QCOMPARE(spm.out, spmIds.out);
    Run noTokenizer = ess({"curve", data("hf/qwen2_torch"), "--input", "text:hello"});
    QCOMPARE(noTokenizer.status, 1);
    QVERIFY2(noTokenizer.err.contains("tokenizer.json") && noTokenizer.err.contains("tokenizer.model"),
             qPrintable(noTokenizer.err));
  }

  // `--operator block|ssm`: the SSM-only operators of a Hugging Face recurrent model differ from
  // the block's (curves, operator files), `ess info` names what ssm leaves out; a bad value
  // and an operator file are usage errors naming the option.
  // Long work shows where it is on a terminal (stderr a tty, here the pty of util-linux
  // `script`), and writes nothing to a stderr that is a pipe or a log.
  void progressOnTerminalOnly() {
    const QString script = QStandardPaths::findExecutable(QStringLiteral("script"));
    if (script.isEmpty()) QSKIP("util-linux script(1) missing");
    QTemporaryDir dir;
    const QString model = data("hf/qwen2_torch"), csv = dir.filePath("c.csv");
    const QStringList args = {"curve", model, "--layer", "1", "--input", "random:seed=0,len=16", "-o", csv};
    const Run plain = ess(args);
    QCOMPARE(plain.status, 0);
    QVERIFY2(plain.err.isEmpty(), qPrintable(plain.err));
    QString line = QStringLiteral(ESS_CLI);
    for (const QString& x : args) line += " '" + x + "'";
    QProcess p;
    p.start(script, {"-qec", line, "/dev/null"});
    QVERIFY(p.waitForFinished(120000));
    QCOMPARE(p.exitCode(), 0);
    const QString tty = QString::fromUtf8(p.readAllStandardOutput());
    QVERIFY2(tty.contains("layer 1 (1 of 1): forward pass 1/1 blocks") && tty.contains("layer 1 (1 of 1): ESS curve") &&
                 tty.contains('\r'),
             qPrintable(tty));
    QFile a(csv);
    QVERIFY(a.open(QIODevice::ReadOnly));
    QVERIFY(a.readAll().startsWith("layer,head,split"));  // the output itself is the same file as before
  }

  void operatorScopeOption() {
    QTemporaryDir dir;
    const QString m2 = data("hf/mamba2_torch");
    const QString input = "tokens:1,31,7,7,0,12,25,3,9,18,30,2";
    Run block = ess({"curve", m2, "--layer", "1", "--input", input});
    Run blockAgain = ess({"curve", m2, "--layer", "1", "--input", input, "--operator", "block"});
    Run ssm = ess({"curve", m2, "--layer", "1", "--input", input, "--operator", "ssm"});
    QCOMPARE(block.status, 0);
    QCOMPARE(ssm.status, 0);
    QCOMPARE(blockAgain.out, block.out);
    QVERIFY(ssm.out != block.out);
    QCOMPARE(csvRows(ssm.out).size(), csvRows(block.out).size());
    const QString opBlock = dir.filePath("block.safetensors"), opSsm = dir.filePath("ssm.safetensors");
    QCOMPARE(ess({"operator", m2, "--layer", "0", "--input", input, "-o", opBlock}).status, 0);
    QCOMPARE(ess({"operator", m2, "--layer", "0", "--input", input, "--operator", "ssm", "-o", opSsm}).status, 0);
    Run fromBlock = ess({"curve", opBlock});
    Run fromSsm = ess({"curve", opSsm});
    QCOMPARE(fromSsm.status, 0);
    QVERIFY(fromSsm.out != fromBlock.out);
    // The file holds the ssm operator: its tolerance-ESS is the model's under --operator ssm.
    const auto fromModel = csvRows(ess({"curve", m2, "--layer", "0", "--input", input, "--operator", "ssm"}).out);
    const auto fromFile = csvRows(fromSsm.out);
    QCOMPARE(fromModel.size(), fromFile.size());
    for (int i = 1; i < fromFile.size(); ++i) QCOMPARE(fromModel[i][3], fromFile[i][3]);
    Run info = ess({"info", m2});
    QVERIFY2(info.out.contains("    --operator ssm leaves out the gated RMSNorm"), qPrintable(info.out));
    Run json = ess({"info", data("hf/lfm2_torch"), "--format", "json"});
    QVERIFY2(json.out.contains("\"ssm_removes\": \"the output gate C\""), qPrintable(json.out));
    QCOMPARE(json.out.count("ssm_removes"), 2);  // the two conv layers, not the attention layer
    Run bad = ess({"curve", m2, "--operator", "gate"});
    QCOMPARE(bad.status, 2);
    QVERIFY2(bad.err.contains("--operator: expected block or ssm, got 'gate'"), qPrintable(bad.err));
    Run opFile = ess({"curve", opSsm, "--operator", "ssm"});
    QCOMPARE(opFile.status, 2);
    QVERIFY2(opFile.err.contains("--operator ssm: " + opSsm + " holds one operator per layer"), qPrintable(opFile.err));
    Run render =
        ess({"render", m2, "--figure", "heatmap", "--layer", "1", "--operator", "ssm", "-o", dir.filePath("ssm.png")});
    QCOMPARE(render.status, 0);
  }

  // `--figure position`: ESS over position of one layer and of every layer, drawn to PNG; a
  // layer outside the model or a bad --layer word is refused.
  void renderPositionFigure() {
    QTemporaryDir dir;
    const QString input = "tokens:1,9,4,33,12,9,7,50,33,2,9,18,21,9,5,33";
    for (const QString& layer : QStringList{"1", "all"}) {
      const QString png = dir.filePath("position_" + layer + ".png");
      Run r = ess(
          {"render", demo(), "--input", input, "--figure", "position", "--layer", layer, "--mark", "9, 33", "-o", png});
      QVERIFY2(r.status == 0, qPrintable(r.err));
      QImage img(png);
      QVERIFY(!img.isNull());
      QCOMPARE(img.width(), 900);
      QCOMPARE(img.height(), 620);
    }
    Run svg = ess({"render", demo(), "--input", input, "--figure", "position", "-o", dir.filePath("p.svg")});
    QVERIFY2(svg.status == 0, qPrintable(svg.err));
    Run bad =
        ess({"render", demo(), "--input", input, "--figure", "position", "--layer", "7", "-o", dir.filePath("x.png")});
    QCOMPARE(bad.status, 2);
    QVERIFY(!QFile::exists(dir.filePath("x.png")));
    // Options of other figures are refused, not ignored.
    Run split = ess({"render", demo(), "--figure", "position", "--split", "500", "-o", dir.filePath("x.png")});
    QCOMPARE(split.status, 2);
    QVERIFY2(split.err.contains("--split 500 is outside"), qPrintable(split.err));
    Run mark = ess({"render", demo(), "--figure", "heatmap", "--mark", "9", "-o", dir.filePath("x.png")});
    QCOMPARE(mark.status, 2);
    QVERIFY2(mark.err.contains("--mark applies to --figure position"), qPrintable(mark.err));
    QVERIFY(!QFile::exists(dir.filePath("x.png")));
  }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
