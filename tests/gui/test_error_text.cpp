// Errors worded for the GUI (issue 10): the core carries the option or field as data, and the
// GUI writes it as the control the user sets ("Layer 5 ...", "Input: ..."), never as the CLI's
// flag ("--layer 5 ...", "--input: ..."); the same errors as the command line words them.
#include "ess/model.h"  // LibTorch before Qt
#include "ess/session.h"

#include <QtTest>

#include "cli_flag.h"
#include "error_text.h"
#include "ess/error.h"
#include "ess/ess_options.h"

namespace {

/// The exception `f` throws, worded by `word`; "<no error>" when it throws none.
template <typename F, typename W>
std::string wordedError(F&& f, W&& word) {
  try {
    f();
  } catch (const std::exception& e) {
    return word(e);
  }
  return "<no error>";
}

std::string gui(const std::exception& e) { return errortext::messageOf(e).toStdString(); }
std::string cli(const std::exception& e) { return ess::cli::cliMessage(e); }

}  // namespace

class TestErrorText : public QObject {
  Q_OBJECT
 private slots:
  void labelsOfFields() {
    QCOMPARE(errortext::labelOf("layer", true), QStringLiteral("Layer"));
    QCOMPARE(errortext::labelOf("layer", false), QStringLiteral("layer"));
    QCOMPARE(errortext::labelOf("d_model", true), QStringLiteral("D model"));
  }

  void layerOutOfRange() {
    const std::string path = ESS_TEST_DATA_DIR "/identity_L16.safetensors";
    auto session = ess::Session::open(path);
    const auto curve = [&] { session->curve(5, ess::EssOptions()); };
    QCOMPARE(wordedError(curve, gui), "Layer 5 is outside 0..0 (" + path + ")");
    QCOMPARE(wordedError(curve, cli), "--layer 5 is outside 0..0 (" + path + ")");
    const auto spectrum = [&] { session->spectrum(0, 3, 4, ess::EssOptions()); };
    QCOMPARE(wordedError(spectrum, gui), std::string("Head 3 is outside 0..0"));
  }

  void badInputSpec() {
    auto session = ess::Session::open(ESS_DEMO_DIR "/hybrid");
    const auto set = [&] { session->setInput("random:seed=1,length=9"); };
    QCOMPARE(wordedError(set, gui), std::string("Input: unknown field 'length' in 'random:seed=1,length=9'"));
    QCOMPARE(wordedError(set, cli), std::string("--input: unknown field 'length' in 'random:seed=1,length=9'"));
  }

  void namesInsideTheBody() {
    const ess::UsageError e("", {"no structured form; use ", ess::nameOf("algorithm"), " auto or dense"});
    QCOMPARE(errortext::messageOf(e), QStringLiteral("no structured form; use algorithm auto or dense"));
    QCOMPARE(ess::cli::cliMessage(e), std::string("no structured form; use --algorithm auto or dense"));
    const std::runtime_error other("plain");
    QCOMPARE(errortext::messageOf(other), QStringLiteral("plain"));
  }
};

QTEST_MAIN(TestErrorText)
#include "test_error_text.moc"
