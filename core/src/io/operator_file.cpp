// Writing operator files (docs/definitions.md section 6) from plain data.
#include <algorithm>
#include <cstring>

#include "ess/error.h"
#include "ess/safetensors_io.h"
#include "ess/session.h"

namespace ess {

void writeOperatorFile(const std::string& path, const OperatorData& op,
                       const std::map<std::string, std::string>& metadata) {
  Array t(ArrayDType::F64, {op.heads, op.length, op.length});
  std::memcpy(t.data(), op.values.data(), std::min(t.nbytes(), op.values.size() * sizeof(double)));
  NamedArrays out;
  out.add("operator", t);
  out.metadata = metadata;
  writeSafetensorArrays(path, out);
}

}  // namespace ess
