// Options of an effective state-size (ESS) computation, plain data (no LibTorch), shared by
// the core engine, the CLI and the GUI. Definitions: docs/definitions.md section 1, after Parnichkun
// et al., "Quantifying Memory Utilization with Effective State-Size" (ICML 2025).
#pragma once
#include <functional>
#include <string>

namespace ess {

/// Reference value that tolerance-ESS compares singular values against:
/// `Max` = sigma_1 (default), `Sum` = sum_k sigma_k, `None` = 1.
enum class Normalization { Max, Sum, None };

/// Floating-point type of the SVDs.
enum class DType { Float32, Float64 };

/// Where the SVDs run. `Cuda` needs a LibTorch built with CUDA; otherwise the engine raises
/// UsageError on field "device" (`--device cuda: ...` on the command line).
enum class Device { Cpu, Cuda };

/// How the singular values of the blocks H_s are found.
/// - `Dense`: from the materialized operator [H, L, L] (computeEss), whatever the operator.
/// - `Structured`: from the generators of a semiseparable operator without forming T
///   (computeStructuredEss, ess/structured_ess.h): O(L N^2 + L N^3) for a curve.
/// - `Auto` (default): Structured when the operator comes as generators (a generator file,
///   or a mixer layer that emits Mixer::generators) and its state size N is below L / 2;
///   Dense otherwise (dense operator files, attention, or N >= L / 2, where the N x N problems
///   are as large as the dense blocks). The dense engine itself always uses the band corner
///   for narrow-banded operators and the Gram fast path where it is accurate.
enum class Algorithm { Auto, Dense, Structured };

/// Splits to evaluate: s = first, first+step, ... <= last (1 <= s <= L-1).
/// `last <= 0` means L-1. Parsed from `A:B:STEP` (any part may be empty).
struct SplitRange {
  int first = 1;
  int last = 0;
  int step = 1;
};

/// Options of one ESS curve, with chained setters in the LibTorch style:
/// `EssOptions().tolerance(1e-4).normalization(Normalization::Sum)`.
struct EssOptions {
  double tolerance_ = 1e-3;
  Normalization normalization_ = Normalization::Max;
  DType dtype_ = DType::Float64;
  Device device_ = Device::Cpu;
  SplitRange splits_{};
  int threads_ = 0;  ///< worker threads for CPU SVDs; 0 = all cores
  Algorithm algorithm_ = Algorithm::Auto;

  EssOptions& tolerance(double v) {
    tolerance_ = v;
    return *this;
  }
  EssOptions& normalization(Normalization v) {
    normalization_ = v;
    return *this;
  }
  EssOptions& dtype(DType v) {
    dtype_ = v;
    return *this;
  }
  EssOptions& device(Device v) {
    device_ = v;
    return *this;
  }
  EssOptions& splits(SplitRange v) {
    splits_ = v;
    return *this;
  }
  EssOptions& threads(int v) {
    threads_ = v;
    return *this;
  }
  EssOptions& algorithm(Algorithm v) {
    algorithm_ = v;
    return *this;
  }
};

/// Progress of long work: called with (done, total) units; may be called from worker threads.
using ProgressFn = std::function<void(long done, long total)>;

/// Parsers for the command-line and GUI spellings; they throw UsageError on anything else.
Normalization parseNormalization(const std::string& s);  ///< "max" | "sum" | "none"
DType parseDType(const std::string& s);                  ///< "float32" | "float64"
Device parseDevice(const std::string& s);                ///< "cpu" | "cuda"
Algorithm parseAlgorithm(const std::string& s);          ///< "auto" | "dense" | "structured"
SplitRange parseSplitRange(const std::string& s);        ///< "A:B:STEP", "A:B", "A"
std::string toString(Normalization n);
std::string toString(DType d);
std::string toString(Algorithm a);

}  // namespace ess
