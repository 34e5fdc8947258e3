// Decisions the GUI and the command line both make about what to compute and show, made once
// here so that `ess render` draws what the GUI draws: whether a layer is shown from tiles or
// from a dense operator, whether an input is tokenized text (its tokens label the axes), and
// which heads a head spec picks, the tolerance threshold of a spectrum with the count above it,
// and whether two checkpoints can be compared (Compare A/B, `--compare`). No LibTorch (essmath).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "ess/ess_options.h"
#include "ess/source_info.h"

namespace ess {

/// Generator files whose operators are longer than this are always shown from tiles:
/// materializing them takes long, and the structured engine needs no dense operator.
constexpr int kTiledGeneratorLength = 4096;

/// Whether a layer with `heads` heads and sequence length `length` is shown from tiles
/// (Session::operatorTile) instead of a dense [H, L, L] float64 operator: when the dense form
/// (H * L * L * 8 bytes) exceeds `memoryBudget` bytes, and for generator files
/// (SourceInfo::architecture "generators") with L > kTiledGeneratorLength.
bool isTiledLayer(const std::string& architecture, int heads, int length, std::size_t memoryBudget);

/// Whether input spec `spec` is text (`text:...` or `textfile:PATH`), tokenized by the
/// checkpoint's tokenizer; its token labels then go on the operator's axes.
bool isTextInput(const std::string& spec);

/// Heads first..last of a layer with `count` heads; empty unless 0 <= first <= last < count.
std::vector<int> headRange(int first, int last, int count);

/// The heads that `spec` picks among the `count` heads of layer `layer`: "all", "H" or "A:B"
/// (inclusive), ascending. UsageError on field "head" for a malformed spec or heads outside
/// 0..count-1 (`--head 5 is outside 0..1 (layer 0)` on the command line).
std::vector<int> parseHeadRange(const std::string& spec, int count, int layer);

/// The tolerance threshold of one block H_s and the number of singular values above it.
struct ToleranceCut {
  double threshold = 0.0;  ///< tolerance * ref, ref = sigma_1, the sum of sigma, or 1 (Normalization)
  int count = 0;           ///< #{sigma_k > threshold}: the tolerance-ESS at s (0 when every sigma is 0)
};

/// The tolerance-ESS cut of singular values `sigma` (any order, >= 0) at `tolerance` with
/// reference `n` (docs/definitions.md section 1); toleranceEss (ess/ess_engine.h) is its count.
ToleranceCut toleranceCut(const std::vector<double>& sigma, double tolerance, Normalization n);

/// A checkpoint's short name in legends and the `checkpoint` column: the last component of
/// `path` ("step-20" for "run/step-20/", "op.safetensors").
std::string checkpointName(const std::string& path);

/// Why checkpoints A and B cannot be compared, naming both: "cannot compare A (step-10) with B
/// (step-20): A has 2 layer(s), B has 3", a different head count in a layer, or a different
/// sequence length L for the input (lengthA, lengthB). Empty when the layouts agree.
std::string layoutMismatch(const SourceInfo& a, int lengthA, const std::string& nameA, const SourceInfo& b, int lengthB,
                           const std::string& nameB);

}  // namespace ess
