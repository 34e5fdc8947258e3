// Writing operator files and plain files atomically.
#include "ess/error.h"
#include "ess/safetensors.h"
#include "ess/session.h"

namespace ess {

void writeOperatorFile(const std::string& path, const OperatorData& op,
                       const std::map<std::string, std::string>& metadata) {
  at::Tensor t = at::from_blob(const_cast<double*>(op.values.data()), {op.heads, op.length, op.length}, at::kDouble).clone();
  NamedTensors out;
  out.add("operator", t);
  out.metadata = metadata;
  writeSafetensors(path, out);
}

}  // namespace ess
