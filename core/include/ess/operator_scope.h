// Which operator of a recurrent layer a session forms (README "Mixer kinds", docs/definitions.md
// section 4): the block's, with the factors the layer applies to its recurrence's output folded
// into T (output gate, normalization after the scan, D skip), or the SSM-only operator of the
// recurrence itself, as the implicit-attention papers draw it (Ali et al. 2024, "The Hidden
// Attention of Mamba Models"). Plain data, shared by the CLI (--operator), the GUI and Python.
#pragma once
#include <string>

namespace ess {

enum class OperatorScope {
  Block,  ///< the mixer block's operator: y_block = T u (the default)
  Ssm,    ///< the recurrence alone: its output before gate, norm and D skip is T u
};

/// "block" or "ssm".
const char* operatorScopeName(OperatorScope scope);
/// Reads "block" or "ssm"; UsageError on field "operator" otherwise.
OperatorScope parseOperatorScope(const std::string& text);

}  // namespace ess
