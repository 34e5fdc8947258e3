// Internal: the shared machinery of every Session (ess/session.h) on the math library's arrays:
// tiles, curves and spectra from a layer's dense operator [H, L, L] or its generators. The
// operator-file session (essmath) and the model sessions (esscore) derive from it.
#pragma once
#include <algorithm>
#include <exception>
#include <memory>
#include <string>

#include "ess/array.h"
#include "ess/error.h"
#include "ess/generator_form.h"
#include "ess/session.h"

namespace ess {

/// The core's boundary while computing (README "Bad input"): what the libraries below throw
/// (LibTorch's c10::Error, std::bad_alloc, any other std::exception) becomes one InputError
/// sentence, "<work>: <problem>", where `work` names the file, the layer, the input and what was
/// being done; the core's own errors (ess::Error) and Cancelled pass unchanged, but for an
/// InputError that names no file (the engines' numerical failures), which gets `work` first.
[[noreturn]] void throwLibraryError(const std::string& work, const std::exception& e);
template <class F>
auto atCoreBoundary(const std::string& work, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const InputError& e) {
    // The core's own errors name their file; one from the engines that does not (a numerical
    // failure, LAPACK's on entries near the largest double) gets the work's words first.
    // ("<file>: ..." is the form of every message that names one.)
    if (e.field().empty() && std::string(e.what()).find(": ") == std::string::npos)
      throw InputError(work + ": " + e.what());
    throw;
  } catch (const Error&) {
    throw;
  } catch (const Cancelled&) {
    throw;
  } catch (const std::exception& e) {
    throwLibraryError(work, e);
  }
}

class SessionBase : public Session {
 public:
  // Each runs its work at the core's boundary (atCoreBoundary).
  const SourceInfo& info() const override { return info_; }
  OperatorData operatorOf(int layer) override;
  OperatorTile operatorTile(int layer, int head, const TileRequest& req) override;
  CurveData curve(int layer, const EssOptions& options, const ProgressFn& progress,
                  const std::atomic<bool>* cancel) override;
  std::vector<double> spectrum(int layer, int head, int split, const EssOptions& options) override;
  /// The generator form of `layer` (empty when it has none), at the boundary like the above;
  /// ess/array_session.h layerGenerators() offers it on any Session.
  GeneratorArrays generators(int layer) {
    checkLayer(layer);
    checkSourcesBeforeUse();
    return atCoreBoundary(workText(layer, "computing the generators"), [&] { return generatorsOf(layer); });
  }

 protected:
  /// "<path>: layer 1 (gla), <doing>, input random:seed=0,len=64" for throwLibraryError (the
  /// input only where the session has one; a text shown by its kind, a long spec shortened).
  std::string workText(int layer, const std::string& doing) const;
  /// An --input spec as messages show it: text by its kind ("text:..."), a long spec shortened.
  static std::string inputText(const std::string& spec);
  /// Generator form of `layer` (empty when the layer has none).
  virtual GeneratorArrays generatorsOf(int) { return {}; }
  /// The same generators as rows the channels share (empty where the layer has none in that
  /// form): curves, tiles and spectra read them rather than forming generatorsOf's.
  virtual SharedGeneratorArrays sharedGeneratorsOf(int) { return {}; }
  /// Whether the dense operator of `layer` is already at hand (then tiles and spectra use it).
  virtual bool hasDenseOperator(int) const { return true; }
  /// Sequence length of `layer`'s operator.
  virtual int lengthOf(int layer) = 0;
  /// The operator of `layer`, [H, L, L] float64, finite.
  virtual Array operatorArray(int layer) = 0;

  void checkLayer(int layer) const;
  SourceInfo info_;

 private:
  // The work of the public methods above, inside the boundary.
  OperatorTile operatorTileUnchecked(int layer, int head, const TileRequest& req);
  CurveData curveUnchecked(int layer, const EssOptions& options, const ProgressFn& progress,
                           const std::atomic<bool>* cancel);
  std::vector<double> spectrumUnchecked(int layer, int head, int split, const EssOptions& options);
};

/// Refuses a dense [H, L, L] float64 operator beyond the memory budget, saying what fits.
void checkBudget(const std::string& what, int64_t heads, int64_t length, size_t budget);
/// Names the first non-finite entry of an [H, L, L] float64 operator.
void checkFiniteOperator(const Array& op, const std::string& what);

/// The session of an operator file (tensor `operator`, [L, L] or [H, L, L]) or a generator file
/// (C, B, log_a [, D]) read as `tensors`. Throws InputError naming `path`.
std::unique_ptr<Session> openOperatorSession(const std::string& path, const NamedArrays& tensors, size_t budget);

}  // namespace ess
