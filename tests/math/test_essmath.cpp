// The math and formats library on its own: this suite links essmath only (no LibTorch; CTest
// `essmath_links_no_libtorch` checks the binary), reads the reference vectors of tests/data
// with the array reader and runs the dense and structured engines on them.
#include <QtTest/QtTest>

#include <cmath>
#include <filesystem>

#include "../core/test_support.h"
#include "ess/array.h"
#include "ess/ess_engine.h"
#include "ess/generator_form.h"
#include "ess/memory_budget.h"
#include "ess/safetensors_io.h"
#include "ess/structured_ess.h"
#include "ess/view_policy.h"

using namespace ess;

namespace {

// Compares `c` with the expected tolerance-ESS (exactly) and entropy-ESS (relative `entTol`).
void compareCurve(const EssCurve& c, const NamedArrays& ref, double entTol) {
  const Array wantTol = ref.find("expected_tolerance_ess")->toFloat64();
  const Array wantEnt = ref.find("expected_entropy_ess")->toFloat64();
  const int H = wantTol.size(0), S = wantTol.size(1);
  QCOMPARE(int(c.tolerance.size()), H);
  QCOMPARE(int(c.splits.size()), S);
  for (int h = 0; h < H; ++h)
    for (int i = 0; i < S; ++i) {
      QCOMPARE(c.splits[i], i + 1);
      const double wt = wantTol.doubles()[h * S + i], we = wantEnt.doubles()[h * S + i];
      QCOMPARE(c.tolerance[h][i], wt);
      if (we == 0.0)
        QCOMPARE(c.entropy[h][i], 0.0);
      else
        QVERIFY2(relErr(c.entropy[h][i], we) < entTol, qPrintable(QString("head %1 split %2").arg(h).arg(i + 1)));
    }
}

}  // namespace

class TestEssMath : public QObject {
  Q_OBJECT
 private slots:
  void referenceVectorsDense_data() {
    QTest::addColumn<QString>("file");
    for (const auto& f : referenceFiles())
      QTest::newRow(std::filesystem::path(f).stem().string().c_str()) << QString::fromStdString(f);
  }
  void referenceVectorsDense() {
    QFETCH(QString, file);
    const NamedArrays ref = readSafetensorArrays(file.toStdString());
    QVERIFY(ref.find("operator"));
    QCOMPARE(ref.metadata.at("tolerance"), std::string("0.001"));
    QCOMPARE(ref.metadata.at("normalization"), std::string("max"));
    compareCurve(computeEss(*ref.find("operator"), EssOptions()), ref, 1e-6);
  }

  // The structured engine on the exact generator form of each reference operator.
  void referenceVectorsStructured_data() { referenceVectorsDense_data(); }
  void referenceVectorsStructured() {
    QFETCH(QString, file);
    const NamedArrays ref = readSafetensorArrays(file.toStdString());
    const GeneratorArrays g = denseAsGenerators(*ref.find("operator"));
    compareCurve(computeStructuredEss(g, EssOptions().algorithm(Algorithm::Structured)), ref, 1e-6);
  }

  // A generator file written and read back as arrays: materialized, it is the recurrence.
  void generatorFileRoundTrip() {
    const int H = 1, L = 8, N = 2;
    NamedArrays t;
    Array C(ArrayDType::F32, {H, L, N}), B(ArrayDType::F64, {H, L, N}), A(ArrayDType::F64, {H, L});
    for (int i = 0; i < L * N; ++i) {
      C.data<float>()[i] = 0.5f + 0.25f * i;
      B.doubles()[i] = 1.0 - 0.1 * i;
    }
    for (int i = 0; i < L; ++i) A.doubles()[i] = -0.2;
    t.add("C", C);
    t.add("B", B);
    t.add("log_a", A);
    t.metadata["kind"] = "test";
    const std::string path = QDir::temp().filePath("essmath_generators.safetensors").toStdString();
    writeSafetensorArrays(path, t);
    const NamedArrays back = readSafetensorArrays(path);
    QVERIFY(isGeneratorFile(back));
    QCOMPARE(back.metadata.at("kind"), std::string("test"));
    QCOMPARE(int(back.find("C")->dtype()), int(ArrayDType::F32));
    const GeneratorArrays g = readGenerators(back, path);
    QVERIFY(g.perHeadDecay());
    const Array T = materializeGenerators(g, path);
    for (int r = 0; r < L; ++r)
      for (int c = 0; c < L; ++c) {
        double want = 0.0;
        if (c <= r)
          for (int n = 0; n < N; ++n)
            want += double(C.data<float>()[r * N + n]) * std::exp(-0.2 * (r - c)) * B.doubles()[c * N + n];
        QVERIFY(std::abs(T.doubles()[r * L + c] - want) < 1e-12);
      }
    // The structured engine equals the dense engine on it.
    const EssCurve s = computeStructuredEss(g, EssOptions().algorithm(Algorithm::Structured));
    const EssCurve d = computeEss(T, EssOptions());
    QCOMPARE(s.tolerance, d.tolerance);
    std::filesystem::remove(path);
  }

  void halfPrecisionToFloat64() {
    Array h(ArrayDType::F16, {3}), b(ArrayDType::BF16, {2});
    h.data<uint16_t>()[0] = 0x3c00;  // 1
    h.data<uint16_t>()[1] = 0xc000;  // -2
    h.data<uint16_t>()[2] = 0x0001;  // smallest subnormal 2^-24
    b.data<uint16_t>()[0] = 0x3f80;  // 1
    b.data<uint16_t>()[1] = 0x4049;  // 3.140625
    QCOMPARE(h.toFloat64().doubles()[0], 1.0);
    QCOMPARE(h.toFloat64().doubles()[1], -2.0);
    QCOMPARE(h.toFloat64().doubles()[2], std::ldexp(1.0, -24));
    QCOMPARE(b.toFloat64().doubles()[1], 3.140625);
  }

  void cudaWithoutModelLibraryIsAClearError() {
    const NamedArrays ref = readSafetensorArrays(std::string(ESS_TEST_DATA_DIR) + "/identity_L16.safetensors");
    const std::string msg =
        errorOf<UsageError>([&] { computeEss(*ref.find("operator"), EssOptions().device(Device::Cuda)); });
    QVERIFY(contains(msg, "--device cuda"));
  }

  // The decisions the GUI and `ess render` share (ess/view_policy.h).
  void tiledOrDense() {
    // 2 heads x 1000^2 x 8 bytes = 16 MB: dense within a 16 MB budget, tiled one byte below.
    QVERIFY(!isTiledLayer("operator", 2, 1000, 16000000));
    QVERIFY(isTiledLayer("operator", 2, 1000, 15999999));
    // Generator files longer than kTiledGeneratorLength are tiled whatever the budget.
    QVERIFY(!isTiledLayer("generators", 1, kTiledGeneratorLength, size_t(1) << 40));
    QVERIFY(isTiledLayer("generators", 1, kTiledGeneratorLength + 1, size_t(1) << 40));
    QVERIFY(!isTiledLayer("hf:gpt2", 1, kTiledGeneratorLength + 1, size_t(1) << 40));
  }

  // The default memory budget (ess/memory_budget.h) from an injected machine size: half of it,
  // 1 GiB at least, 32 GiB at most, 2 GiB when unknown; a cgroup v2 limit below the physical
  // memory is what counts.
  void defaultMemoryBudgetRule() {
    const uint64_t GiB = uint64_t(1) << 30;
    QCOMPARE(defaultMemoryBudgetFor(24 * GiB), size_t(12 * GiB));
    QCOMPARE(defaultMemoryBudgetFor(24683652ull * 1024), size_t(24683652ull * 512));  // this machine
    QCOMPARE(defaultMemoryBudgetFor(16 * GiB), size_t(8 * GiB));
    QCOMPARE(defaultMemoryBudgetFor(GiB), size_t(GiB));
    QCOMPARE(defaultMemoryBudgetFor(GiB / 4), size_t(GiB));
    QCOMPARE(defaultMemoryBudgetFor(256 * GiB), size_t(32 * GiB));
    QCOMPARE(defaultMemoryBudgetFor(0), size_t(2 * GiB));
    QCOMPARE(usableMemoryBytes(24 * GiB, ""), 24 * GiB);
    QCOMPARE(usableMemoryBytes(24 * GiB, "max\n"), 24 * GiB);
    QCOMPARE(usableMemoryBytes(24 * GiB, "8589934592\n"), 8 * GiB);
    QCOMPARE(usableMemoryBytes(8 * GiB, "34359738368"), 8 * GiB);
    QCOMPARE(usableMemoryBytes(0, "4294967296"), 4 * GiB);
    QCOMPARE(usableMemoryBytes(0, ""), uint64_t(0));
    QCOMPARE(usableMemoryBytes(24 * GiB, "-1"), 24 * GiB);
    QCOMPARE(usableMemoryBytes(24 * GiB, "99999999999999999999999"), 24 * GiB);
    QCOMPARE(defaultMemoryBudget(), defaultMemoryBudgetFor(machineMemoryBytes()));
    QCOMPARE(memoryBudgetText(12 * GiB), std::string("12 GiB"));
    QCOMPARE(memoryBudgetText(GiB + GiB / 2), std::string("1.5 GiB"));
  }

  void textOrTokens() {
    QVERIFY(isTextInput("text:hello"));
    QVERIFY(isTextInput("textfile:/tmp/a.txt"));
    QVERIFY(!isTextInput("tokens:1,2,3"));
    QVERIFY(!isTextInput("random:seed=0,len=8"));
    QVERIFY(!isTextInput("text"));
  }

  void headRanges() {
    QCOMPARE(parseHeadRange("all", 3, 0), (std::vector<int>{0, 1, 2}));
    QCOMPARE(parseHeadRange("1", 3, 0), (std::vector<int>{1}));
    QCOMPARE(parseHeadRange("1:2", 3, 0), (std::vector<int>{1, 2}));
    QCOMPARE(errorOf<UsageError>([] { parseHeadRange("2:5", 4, 1); }),
             std::string("--head 2:5 is outside 0..3 (layer 1)"));
    QCOMPARE(errorOf<UsageError>([] { parseHeadRange("2:1", 4, 0); }),
             std::string("--head 2:1 is outside 0..3 (layer 0): A:B needs A <= B"));
    QCOMPARE(errorOf<UsageError>([] { parseHeadRange("x", 4, 0); }),
             std::string("--head: expected all, H or A:B (inclusive), got 'x'"));
    QCOMPARE(headRange(1, 2, 4), (std::vector<int>{1, 2}));
    QVERIFY(headRange(2, 4, 4).empty() && headRange(-1, 0, 4).empty() && headRange(2, 1, 4).empty());
  }

  void spectrumCut() {
    const std::vector<double> sigma = {10.0, 1.0, 0.2, 0.05, 0.0};
    ToleranceCut c = toleranceCut(sigma, 1e-2, Normalization::Max);
    QCOMPARE(c.threshold, 0.1);
    QCOMPARE(c.count, 3);
    c = toleranceCut(sigma, 1e-2, Normalization::Sum);
    QVERIFY(std::abs(c.threshold - 0.1125) < 1e-12);
    QCOMPARE(c.count, 3);
    c = toleranceCut(sigma, 0.5, Normalization::None);
    QCOMPARE(c.threshold, 0.5);
    QCOMPARE(c.count, 2);
    QCOMPARE(toleranceCut({0.0, 0.0}, 1e-3, Normalization::None).count, 0);
    // The engine's tolerance-ESS is the cut's count.
    for (Normalization n : {Normalization::Max, Normalization::Sum, Normalization::None})
      QCOMPARE(toleranceEss(sigma, 1e-2, n), double(toleranceCut(sigma, 1e-2, n).count));
  }

  // Errors carry the option as data (issue 10): the field, the body, and each front end's
  // wording of it; what() names it by its key.
  void errorsCarryTheOptionAsData() {
    try {
      parseSplitRange("1:x");
      QFAIL("expected UsageError");
    } catch (const UsageError& e) {
      QCOMPARE(e.field(), std::string("splits"));
      QCOMPARE(std::string(e.what()), std::string("splits: expected A:B:STEP with integers, got '1:x'"));
      QCOMPARE(cli::cliMessage(e), std::string("--splits: expected A:B:STEP with integers, got '1:x'"));
    }
    QCOMPARE(errorOf<UsageError>([] { parseDevice("tpu"); }), std::string("--device: expected cpu or cuda, got 'tpu'"));
    // Names inside the body are data too: the CLI writes them as flags, the first one included.
    const UsageError e("d_model", {" 12 is not divisible by ", nameOf("heads"), " 5"});
    QCOMPARE(std::string(e.what()), std::string("d_model 12 is not divisible by heads 5"));
    QCOMPARE(cli::cliMessage(e), std::string("--d-model 12 is not divisible by --heads 5"));
    const auto upper = [](const std::string& key, bool first) { return (first ? "<" : "[") + key + ">"; };
    QCOMPARE(e.text(upper), std::string("<d_model> 12 is not divisible by [heads> 5"));
    QCOMPARE(InputError("", {"training diverged; try a smaller ", nameOf("lr")}).text(upper),
             std::string("training diverged; try a smaller [lr>"));
    // A whole message (a file's error) has no field and is printed as it is.
    const InputError file("a.safetensors: truncated header");
    QVERIFY(file.field().empty());
    QCOMPARE(cli::cliMessage(file), std::string("a.safetensors: truncated header"));
    QCOMPARE(cli::flagOf("state_size"), std::string("--state-size"));
  }
};

QTEST_GUILESS_MAIN(TestEssMath)
#include "test_essmath.moc"
