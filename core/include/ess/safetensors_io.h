// Reading and writing safetensors files (https://github.com/huggingface/safetensors) as plain
// arrays (ess/array.h), without LibTorch: model weights, operator files `operator` [H, L, L],
// generator files and the reference vectors of docs/definitions.md section 6 all use this format.
// ess/safetensors.h offers the same on LibTorch tensors for the model library.
//
// Layout: an 8-byte little-endian header length N, N bytes of JSON
// `{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//   "__metadata__": {"key": "value"}}`, then the data section (offsets are relative to it),
// every tensor C-contiguous and little-endian.
// Supported dtypes: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ess/array.h"
#include "ess/file_identity.h"

namespace ess {

/// Reads every tensor of a safetensors file, in the order of the JSON header (the file order
/// for every common writer), and the string pairs of `__metadata__`. Everything is read into
/// memory (not mapped), so a file truncated or rewritten later cannot fault or change the
/// arrays; the file is opened without blocking (ess/input_file.h), and a change while it is
/// read is an error. Every header field is checked against the file before any data is read:
/// header length vs file size, valid JSON object without a repeated name, each entry has
/// `dtype`, `shape` and `data_offsets`, known dtype, non-negative shape,
/// begin <= end <= size of the data section, end - begin == numel * itemsize, no two tensors
/// overlap, metadata values are strings. BOOL values are read as bytes 0 and 1.
/// Throws InputError `<path>: <what is wrong>` (missing file, directory, empty or
/// truncated file, malformed header, unsupported dtype, read failure).
NamedArrays readSafetensorArrays(const std::string& path);

/// A safetensors file opened for reading its tensors one at a time (the weights of one layer of a
/// model larger than memory): the header is read and checked at open exactly as by
/// readSafetensorArrays, the file stays open, and `read` fetches one tensor's bytes with pread.
/// Copies share the open file. Throws InputError as readSafetensorArrays.
class SafetensorsFile {
 public:
  /// One header entry: offsets relative to the data section.
  struct Entry {
    std::string name;
    ArrayDType dtype;
    std::vector<int64_t> shape;
    uint64_t begin, end;
  };

  explicit SafetensorsFile(const std::string& path);

  const std::string& path() const;
  /// What the file was when opened.
  FileIdentity identity() const;
  /// Entries in header order.
  const std::vector<Entry>& entries() const;
  const std::map<std::string, std::string>& metadata() const;

  /// Reads tensor `name` (a new owned array). The file is checked before and after the read
  /// (device, inode, size, modification time): a change since it was opened throws InputError
  /// "<path>: the file changed on disk since it was opened (<why>); reopen it", so no result mixes
  /// old and new bytes. Throws std::out_of_range for a name not in entries().
  Array read(const std::string& name) const;
  /// Rows `rows` of tensor `name` along its first dimension, in the order given (repeats
  /// allowed): a new array [rows.size(), shape[1], ...]. Each distinct row is read once and a run
  /// of consecutive rows with one pread, so an embedding's rows for a token sequence cost the
  /// rows, not the matrix (128256 x 4096 bf16 for Llama 3 8B: 1 GiB). Checked unchanged as read().
  /// Throws std::out_of_range for a name not in entries() or a row outside 0..shape[0]-1,
  /// std::invalid_argument for a 0-d tensor.
  Array readRows(const std::string& name, const std::vector<int64_t>& rows) const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
  friend NamedArrays readSafetensorArrays(const std::string& path);
};

/// Writes `t` (arrays in their order) with `t.metadata` as `__metadata__`. The header is padded
/// with spaces to a multiple of 8 bytes. The file is written to a temporary file in the same
/// folder and renamed into place, so `path` is either untouched or complete.
/// Throws InputError `<path>: ...` on an I/O failure, an undefined array, a duplicate
/// or reserved (`__metadata__`) tensor name.
void writeSafetensorArrays(const std::string& path, const NamedArrays& t);

}  // namespace ess
