// Reading and writing safetensors files (https://github.com/huggingface/safetensors) as
// LibTorch tensors (the model library; ess/safetensors_io.h reads them as plain arrays):
// model weights, operator files `operator` [H, L, L], generator files and the reference
// vectors of docs/definitions.md section 6 all use this format.
//
// Layout: an 8-byte little-endian header length N, N bytes of JSON
// `{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//   "__metadata__": {"key": "value"}}`, then the data section (offsets are relative to it),
// every tensor C-contiguous and little-endian.
// Supported dtypes: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL.
#pragma once
#include <string>

#include "ess/safetensors_io.h"
#include "ess/tensors.h"

namespace ess {

/// Reads every tensor of a safetensors file into contiguous CPU tensors, in the order of
/// the JSON header (which is the file order for every common writer), and the string
/// pairs of `__metadata__`. Everything is read into memory (ess/safetensors_io.h), never
/// mapped, so a file changed on disk later cannot fault or change the tensors.
/// Every header field is checked against the file before any data is read: header length
/// vs file size, valid JSON object, each entry has `dtype`, `shape` and `data_offsets`,
/// known dtype, non-negative shape, begin <= end <= size of the data section,
/// end - begin == numel * itemsize, no two tensors overlap, metadata values are strings.
/// Throws InputError `<path>: <what is wrong>` (missing file, directory, empty or
/// truncated file, malformed header, unsupported dtype, read failure).
NamedTensors readSafetensors(const std::string& path);

/// The tensors of an opened safetensors file as shape and dtype only (meta-device tensors, no
/// bytes read), in header order, and its metadata; read one with readTensor.
NamedTensors safetensorsShapes(const SafetensorsFile& file);
/// Tensor `name` of `file` as a contiguous CPU tensor (SafetensorsFile::read: checked unchanged).
at::Tensor readTensor(const SafetensorsFile& file, const std::string& name);

/// Writes `t` (tensors in their order, any device, made contiguous CPU little-endian;
/// dtypes as listed above) with `t.metadata` as `__metadata__`. The header is padded with
/// spaces to a multiple of 8 bytes. The file is written to a temporary file in the same
/// folder and renamed into place, so `path` is either untouched or complete.
/// Throws InputError `<path>: ...` on an I/O failure, an unsupported dtype, a duplicate
/// or reserved (`__metadata__`) tensor name.
void writeSafetensors(const std::string& path, const NamedTensors& t);

/// The safetensors name of a dtype ("F32", "BF16", ...); throws InputError for a dtype the
/// format (as supported here) cannot hold. Useful for listings such as `ess info --tensors`.
std::string safetensorsDtypeName(at::ScalarType dtype);

}  // namespace ess
