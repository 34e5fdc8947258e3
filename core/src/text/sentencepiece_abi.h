// The plain C interface of the ess_sentencepiece module (core/sentencepiece/), through which the
// core reads SentencePiece `tokenizer.model` files (Llama-2, Mistral) with libsentencepiece.
//
// Why a module: Debian's libsentencepiece.so carries its own copy of protobuf (1,600 exported
// google::protobuf symbols) which clashes with the libprotobuf that LibTorch loads: a program
// linking both crashes in protobuf's static initializers before main. The module links
// libsentencepiece alone and is opened with dlmopen(LM_ID_NEWLM) in a link namespace of its own,
// so its protobuf symbols resolve inside that namespace and never meet LibTorch's (this needs no
// RTLD_DEEPBIND, which AddressSanitizer refuses; the sanitizer build leaves the module
// uninstrumented, as the namespace cannot see the sanitizer runtime). Only C types cross the
// boundary, and memory is never freed on the other side.
#pragma once
#include <stddef.h>

extern "C" {

/// Receives bytes (an error message, a piece, decoded text) or ids from the module.
typedef void (*ess_spm_bytes_sink)(void* ctx, const char* data, size_t size);
typedef void (*ess_spm_ids_sink)(void* ctx, const int* ids, size_t count);

/// Interface version; the loader refuses a module with another one.
#define ESS_SPM_ABI_VERSION 1
typedef int (*ess_spm_abi_version_fn)(void);

/// Loads a model file. Returns a handle, or null after passing the reason to `err`.
typedef void* (*ess_spm_load_fn)(const char* path, ess_spm_bytes_sink err, void* ctx);
typedef void (*ess_spm_free_fn)(void* handle);
/// Number of pieces (the vocabulary size).
typedef int (*ess_spm_piece_size_fn)(void* handle);
/// Token ids of UTF-8 text (no BOS/EOS). Returns 0, or -1 after passing the reason to `err`.
typedef int (*ess_spm_encode_fn)(void* handle, const char* text, size_t size, ess_spm_ids_sink out, void* ctx,
                                 ess_spm_bytes_sink err, void* errCtx);
/// Text of ids. Returns 0, or -1 after passing the reason to `err`.
typedef int (*ess_spm_decode_fn)(void* handle, const int* ids, size_t count, ess_spm_bytes_sink out, void* ctx,
                                 ess_spm_bytes_sink err, void* errCtx);
/// The piece of an id (caller checks 0 <= id < piece size).
typedef void (*ess_spm_id_to_piece_fn)(void* handle, int id, ess_spm_bytes_sink out, void* ctx);
/// Kind of an id: 0 normal, 1 byte (<0xNN>), 2 control (<s>, </s>), 3 unknown, 4 unused.
///
typedef int (*ess_spm_kind_fn)(void* handle, int id);
/// Id of BOS / EOS, or -1 when the model has none.
typedef int (*ess_spm_bos_id_fn)(void* handle);
typedef int (*ess_spm_eos_id_fn)(void* handle);

}  // extern "C"
