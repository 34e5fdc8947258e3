// Opens the ess_sentencepiece module in a link namespace of its own (dlmopen) and calls
// libsentencepiece through its C interface (sentencepiece_abi.h).
#include "text/sentencepiece_model.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "ess/error.h"
#include "text/sentencepiece_abi.h"

#ifndef ESS_SENTENCEPIECE_MODULE
#define ESS_SENTENCEPIECE_MODULE ""
#endif

namespace ess {

namespace fs = std::filesystem;

struct SentencePieceModel::Api {
  ess_spm_load_fn load = nullptr;
  ess_spm_free_fn free = nullptr;
  ess_spm_piece_size_fn pieceSize = nullptr;
  ess_spm_encode_fn encode = nullptr;
  ess_spm_decode_fn decode = nullptr;
  ess_spm_id_to_piece_fn idToPiece = nullptr;
  ess_spm_kind_fn kind = nullptr;
  ess_spm_bos_id_fn bosId = nullptr;
  ess_spm_eos_id_fn eosId = nullptr;
};

namespace {

constexpr const char* kModuleName = "libess_sentencepiece.so";

void appendBytes(void* ctx, const char* data, size_t size) { static_cast<std::string*>(ctx)->append(data, size); }
void appendIds(void* ctx, const int* ids, size_t count) {
  auto* out = static_cast<std::vector<long>*>(ctx);
  out->insert(out->end(), ids, ids + count);
}

/// The module's functions, loaded once per process; `error` is set when it could not be.
struct Loaded {
  SentencePieceModel::Api* api = nullptr;
  std::string error;
};

template <typename F>
bool bind(void* lib, const char* name, F& f) {
  f = reinterpret_cast<F>(dlsym(lib, name));
  return f != nullptr;
}

}  // namespace

std::vector<std::string> SentencePieceModel::moduleCandidates() {
  std::vector<std::string> out;
  if (const char* env = std::getenv("ESS_SENTENCEPIECE_MODULE"); env && *env) out.push_back(env);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    out.push_back((exe.parent_path() / kModuleName).string());
    out.push_back((exe.parent_path().parent_path() / "lib" / kModuleName).string());
  }
  if (*ESS_SENTENCEPIECE_MODULE) out.push_back(ESS_SENTENCEPIECE_MODULE);
  return out;
}

std::unique_ptr<SentencePieceModel> SentencePieceModel::load(const std::string& path) {
  static std::once_flag once;
  static Loaded loaded;
  std::call_once(once, [] {
    std::string tried;
    for (const std::string& candidate : moduleCandidates()) {
      std::error_code ec;
      if (!fs::exists(candidate, ec)) {
        tried += "\n  " + candidate + " (absent)";
        continue;
      }
      // A namespace of its own: libsentencepiece's protobuf never meets LibTorch's, and no
      // RTLD_DEEPBIND is needed (AddressSanitizer refuses it). Only C types cross.
      void* lib = dlmopen(LM_ID_NEWLM, candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
#ifndef ESS_SANITIZE
      if (!lib) {  // a C library without dlmopen namespaces left: the symbols kept apart by lookup order
        const std::string why = dlerror();
        lib = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
        if (!lib) tried += "\n  " + candidate + " (dlmopen: " + why + ")";
      }
#endif
      if (!lib) {
        tried += "\n  " + candidate + " (" + dlerror() + ")";
        continue;
      }
      ess_spm_abi_version_fn version = nullptr;
      auto* api = new Api();
      const bool ok = bind(lib, "ess_spm_abi_version", version) && version() == ESS_SPM_ABI_VERSION &&
                      bind(lib, "ess_spm_load", api->load) && bind(lib, "ess_spm_free", api->free) &&
                      bind(lib, "ess_spm_piece_size", api->pieceSize) && bind(lib, "ess_spm_encode", api->encode) &&
                      bind(lib, "ess_spm_decode", api->decode) && bind(lib, "ess_spm_id_to_piece", api->idToPiece) &&
                      bind(lib, "ess_spm_kind", api->kind) && bind(lib, "ess_spm_bos_id", api->bosId) &&
                      bind(lib, "ess_spm_eos_id", api->eosId);
      if (!ok) {
        delete api;
        dlclose(lib);
        tried += "\n  " + candidate + " (not an ess_sentencepiece module of this version)";
        continue;
      }
      loaded.api = api;  // kept for the life of the process, like the library
      return;
    }
    loaded.error = tried;
  });
  if (!loaded.api)
    throw InputError(path +
                     ": SentencePiece tokenizers are read by libsentencepiece through the "
                     "ess_sentencepiece module, which was not found (install Debian's "
                     "libsentencepiece-dev and rebuild; or add a tokenizer.json to the folder). Looked for:" +
                     loaded.error);
  std::unique_ptr<SentencePieceModel> m(new SentencePieceModel());
  m->api_ = loaded.api;
  m->path_ = path;
  std::string why;
  m->handle_ = loaded.api->load(path.c_str(), appendBytes, &why);
  if (!m->handle_) throw InputError(path + ": not a SentencePiece model (libsentencepiece: " + why + ")");
  return m;
}

SentencePieceModel::~SentencePieceModel() {
  if (handle_) api_->free(handle_);
}

std::vector<long> SentencePieceModel::encode(const std::string& text) const {
  std::vector<long> ids;
  std::string why;
  if (api_->encode(handle_, text.data(), text.size(), appendIds, &ids, appendBytes, &why) != 0)
    throw InputError(path_ + ": cannot encode the text (libsentencepiece: " + why + ")");
  return ids;
}

std::string SentencePieceModel::decode(const std::vector<long>& ids) const {
  const std::vector<int> v(ids.begin(), ids.end());
  std::string text, why;
  if (api_->decode(handle_, v.data(), v.size(), appendBytes, &text, appendBytes, &why) != 0)
    throw InputError(path_ + ": cannot decode (libsentencepiece: " + why + ")");
  return text;
}

std::string SentencePieceModel::piece(long id) const {
  std::string p;
  api_->idToPiece(handle_, static_cast<int>(id), appendBytes, &p);
  return p;
}

SentencePieceModel::Kind SentencePieceModel::kind(long id) const {
  return static_cast<Kind>(api_->kind(handle_, static_cast<int>(id)));
}
int SentencePieceModel::pieceSize() const { return api_->pieceSize(handle_); }
int SentencePieceModel::bosId() const { return api_->bosId(handle_); }
int SentencePieceModel::eosId() const { return api_->eosId(handle_); }

}  // namespace ess
