// The ess_sentencepiece module: libsentencepiece behind the C interface of
// core/src/text/sentencepiece_abi.h (why a separate module: see that header). Built only when
// Debian's libsentencepiece-dev is installed; no LibTorch, no Qt.
#include <sentencepiece_processor.h>

#include <memory>
#include <string>
#include <vector>

#include "text/sentencepiece_abi.h"

namespace {
using Processor = sentencepiece::SentencePieceProcessor;
Processor& proc(void* h) { return *static_cast<Processor*>(h); }
void say(ess_spm_bytes_sink sink, void* ctx, const std::string& s) { sink(ctx, s.data(), s.size()); }
}  // namespace

extern "C" {

__attribute__((visibility("default"))) int ess_spm_abi_version(void) { return ESS_SPM_ABI_VERSION; }

__attribute__((visibility("default"))) void* ess_spm_load(const char* path, ess_spm_bytes_sink err, void* ctx) {
  auto p = std::make_unique<Processor>();
  const auto status = p->Load(path);
  if (!status.ok()) {
    say(err, ctx, status.ToString());
    return nullptr;
  }
  return p.release();
}

__attribute__((visibility("default"))) void ess_spm_free(void* h) { delete static_cast<Processor*>(h); }

__attribute__((visibility("default"))) int ess_spm_piece_size(void* h) { return proc(h).GetPieceSize(); }

__attribute__((visibility("default"))) int ess_spm_encode(void* h, const char* text, size_t size, ess_spm_ids_sink out,
                                                          void* ctx, ess_spm_bytes_sink err, void* errCtx) {
  std::vector<int> ids;
  const auto status = proc(h).Encode(std::string(text, size), &ids);
  if (!status.ok()) {
    say(err, errCtx, status.ToString());
    return -1;
  }
  out(ctx, ids.data(), ids.size());
  return 0;
}

__attribute__((visibility("default"))) int ess_spm_decode(void* h, const int* ids, size_t count, ess_spm_bytes_sink out,
                                                          void* ctx, ess_spm_bytes_sink err, void* errCtx) {
  std::string text;
  const auto status = proc(h).Decode(std::vector<int>(ids, ids + count), &text);
  if (!status.ok()) {
    say(err, errCtx, status.ToString());
    return -1;
  }
  say(out, ctx, text);
  return 0;
}

__attribute__((visibility("default"))) void ess_spm_id_to_piece(void* h, int id, ess_spm_bytes_sink out, void* ctx) {
  say(out, ctx, proc(h).IdToPiece(id));
}

__attribute__((visibility("default"))) int ess_spm_kind(void* h, int id) {
  const Processor& p = proc(h);
  if (p.IsByte(id)) return 1;
  if (p.IsControl(id)) return 2;
  if (p.IsUnknown(id)) return 3;
  if (p.IsUnused(id)) return 4;
  return 0;
}

__attribute__((visibility("default"))) int ess_spm_bos_id(void* h) { return proc(h).bos_id(); }
__attribute__((visibility("default"))) int ess_spm_eos_id(void* h) { return proc(h).eos_id(); }

}  // extern "C"
