// Writing operator files and plain files atomically.
#include <filesystem>
#include <fstream>

#include "ess/error.h"
#include "ess/safetensors.h"
#include "ess/session.h"

namespace ess {

void writeFileAtomically(const std::string& path, const std::string& data) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const fs::path tmp = dir / ("." + target.filename().string() + ".tmp" + std::to_string(::getpid()));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw InputError(path + ": cannot write (folder missing or not writable)");
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw InputError(path + ": write failed (disk full?)");
    }
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw InputError(path + ": cannot rename the temporary file into place");
  }
}

void writeOperatorFile(const std::string& path, const OperatorData& op,
                       const std::map<std::string, std::string>& metadata) {
  at::Tensor t = at::from_blob(const_cast<double*>(op.values.data()), {op.heads, op.length, op.length}, at::kDouble).clone();
  NamedTensors out;
  out.add("operator", t);
  out.metadata = metadata;
  writeSafetensors(path, out);
}

}  // namespace ess
