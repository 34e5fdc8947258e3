// The core's boundary while computing (math/session_base.h, issue 12): the core's own errors
// and Cancelled pass unchanged; what else a library throws becomes one InputError sentence
// naming the work, never the library's words; and a dense operator larger than the machine is
// that sentence too (std::bad_alloc), not a crash.
#include <QtTest>

#include <QTemporaryDir>
#include <new>
#include <stdexcept>
#include <string>

#include "ess/error.h"
#include "ess/safetensors_io.h"
#include "ess/session.h"
#include "math/json_text.h"
#include "math/session_base.h"

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

const std::string kWork = "m: layer 1 (gla), computing the operator, input tokens:1,2";

}  // namespace

class TestCoreBoundary : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void libraryExceptionsBecomeOneSentence() {
    // LibTorch's allocation failure (c10::Error is a std::exception with this text).
    QCOMPARE(inputError([] {
               ess::atCoreBoundary(kWork, []() -> int {
                 throw std::runtime_error(
                     "[enforce fail at alloc_cpu.cpp:75] err == 0. DefaultCPUAllocator: can't allocate memory: you "
                     "tried to allocate 32000000000 bytes.\nException raised from ...");
               });
             }),
             kWork + ": not enough memory on this machine; lower the budget or use a shorter input");
    QCOMPARE(inputError([] { ess::atCoreBoundary(kWork, []() -> int { throw std::bad_alloc(); }); }),
             kWork + ": not enough memory on this machine; lower the budget or use a shorter input");
    // Anything else, e.g. a shape check inside LibTorch.
    QCOMPARE(inputError([] {
               ess::atCoreBoundary(kWork, []() -> int {
                 throw std::runtime_error("Expected size for first two dimensions of batch2 tensor to be: [4, 8]");
               });
             }),
             kWork + ": the computation failed in the model library (the file may be damaged or not supported)");
  }

  void ownErrorsAndCancelPassUnchanged() {
    QCOMPARE(ess::atCoreBoundary(kWork, [] { return 7; }), 7);
    try {
      ess::atCoreBoundary(kWork, []() -> int { throw ess::UsageError("layer", {" 5 is outside 0..1"}); });
      QFAIL("no UsageError");
    } catch (const ess::UsageError& e) {
      QCOMPARE(e.field(), std::string("layer"));
    }
    QCOMPARE(inputError([] { ess::atCoreBoundary(kWork, []() -> int { throw ess::InputError("f: bad"); }); }),
             std::string("f: bad"));
    QVERIFY_THROWS_EXCEPTION(ess::Cancelled, ess::atCoreBoundary(kWork, []() -> int { throw ess::Cancelled(); }));
  }

  // A generator file of L = 1,000,000 asked for its dense operator (8 TB) under a budget larger
  // than the machine: the allocation fails (std::bad_alloc, also under AddressSanitizer) and the
  // session says so in one sentence; the structured engine still answers for the same file.
  void denseOperatorLargerThanTheMachine() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("long.safetensors").toStdString();
    const int64_t L = 1000000;
    ess::NamedArrays t;
    for (const char* name : {"C", "B", "log_a"}) {
      ess::Array a(ess::ArrayDType::F64, {1, L, 1});
      for (int64_t i = 0; i < L; ++i) a.doubles()[i] = std::string(name) == "log_a" ? -0.01 : 0.5;
      t.add(name, a);
    }
    ess::writeSafetensorArrays(path, t);
    auto s = ess::Session::open(path, size_t(1) << 50);
    ess::EssOptions dense;
    dense.algorithm(ess::Algorithm::Dense);
    const std::string noMemory = ": not enough memory on this machine; lower the budget or use a shorter input";
    QCOMPARE(inputError([&] { s->curve(0, dense); }),
             path + ": layer 0 (semiseparable), computing the ESS curves" + noMemory);
    QCOMPARE(inputError([&] { s->operatorOf(0); }),
             path + ": layer 0 (semiseparable), computing the operator" + noMemory);
    const std::vector<double> sv = s->spectrum(0, 0, 500000, ess::EssOptions());
    QCOMPARE(sv.size(), size_t(500000));
    QVERIFY(sv[0] > 0.0 && sv[1] == 0.0);  // rank N = 1
  }

  void jsonProblemDropsTheLibrarysTag() {
    QCOMPARE(ess::jsonProblem(std::runtime_error(
                 "[json.exception.parse_error.101] parse error at line 1, column 9: syntax error while parsing value")),
             std::string("line 1, column 9: syntax error while parsing value"));
    QCOMPARE(ess::jsonProblem(std::runtime_error("[json.exception.type_error.302] type must be string, but is number")),
             std::string("type must be string, but is number"));
    QCOMPARE(ess::jsonProblem(std::runtime_error("plain")), std::string("plain"));
  }
};

QTEST_MAIN(TestCoreBoundary)
#include "test_core_boundary.moc"
