// What an opened file is, as `ess info` reports it: its layers, their heads and theoretical
// state sizes, and its tensors. Plain data (no LibTorch, no Qt).
#pragma once
#include <string>
#include <vector>

namespace ess {

/// One layer of an opened file as `ess info` reports it.
struct LayerSummary {
  int index = 0;
  std::string mixer;       ///< mixer kind (docs/definitions.md section 6), "operator" for operator files
  int heads = 1;           ///< SISO operators in the layer (heads or channels)
  int valueChannels = 1;   ///< value channels each head operator is applied to (d_v)
  std::string tss;         ///< theoretical state size per head, as a formula ("16", "s*(8+8)")
  std::string ssmRemoves;  ///< what the SSM-only operator leaves out (ess/operator_scope.h); "" when the same
};

/// What an opened file is.
struct SourceInfo {
  std::string path;
  std::string architecture;  ///< "ess-lm", "operator", ...
  std::vector<LayerSummary> layers;
  bool needsInput = false;  ///< true for models: operators depend on the input tokens
  int vocabSize = 0;        ///< models only
  int maxLength = 0;        ///< models only: longest input the model accepts (0 = no limit)
  int length = 0;           ///< operator and generator files: sequence length L
  std::string description;  ///< one line for status bars ("ess-lm, 2 layers: softmax_attention, gla")
};

/// One tensor of a file as `ess info --tensors` lists it: `name dtype shape`.
struct TensorSummary {
  std::string name;
  std::string dtype;  ///< safetensors spelling: F64, F32, F16, BF16, I64, ...
  std::vector<long> shape;
};

/// What `ess info` reports of any readable checkpoint, including plain state dicts that are
/// neither a model nor an operator (architecture "tensors", no layers).
struct FileSummary {
  SourceInfo info;
  std::vector<TensorSummary> tensors;
};

}  // namespace ess
