// Opening checkpoints of any supported kind (docs/definitions.md section 4): a safetensors file, a
// sharded safetensors set with its index, a PyTorch `torch.save` file, or a Hugging Face
// style folder holding one of these and `config.json`. Also `ess convert`.
#pragma once
#include <map>
#include <string>

#include "ess/safetensors_io.h"
#include "ess/tensors.h"

namespace ess {

/// Reads one tensor file, choosing the reader from its content, not its name:
/// a zip archive ("PK\x03\x04") is a PyTorch checkpoint (readTorchCheckpoint), a pickle
/// (0x80 ...) is the legacy PyTorch format (refused with a clear message), anything else
/// is read as safetensors (readSafetensors).
/// Throws InputError `<path>: <what is wrong>`.
NamedTensors readTensorFile(const std::string& path);

/// A checkpoint's tensors and configuration as found on disk.
struct CheckpointFiles {
  std::string path;  ///< what was opened (the folder or file as given)
  std::string
      configJson;        ///< text of config.json (Python's bare Infinity quoted: "Infinity"); empty when there is none
  NamedTensors tensors;  ///< every tensor of every weights file (shards in order)
  /// With TensorLoading::OnDemand, the safetensors tensors: their entries in `tensors` are
  /// meta-device tensors (shape and dtype, no values), read by readTensor from the file kept
  /// open here. Empty when everything was read at open.
  std::map<std::string, SafetensorsFile> onDemand;
};

/// Whether loadCheckpointFiles reads every tensor's values at open (Whole) or keeps safetensors
/// files open and reads each tensor when it is used (OnDemand: a model larger than memory is
/// streamed a layer at a time). PyTorch zip checkpoints are always read whole.
enum class TensorLoading { Whole, OnDemand };

/// The values of tensor `name` of `files`: read now from its safetensors file (checked unchanged
/// since it was opened: InputError "<file>: the file changed on disk since it was opened (...)")
/// when it is on demand, else the tensor held. Throws std::out_of_range for an unknown name.
at::Tensor readTensor(const CheckpointFiles& files, const std::string& name);
/// Reads every on-demand tensor of `files` into `files.tensors` (then onDemand is empty).
void readAllTensors(CheckpointFiles& files);

/// Opens a checkpoint:
/// - a folder: `config.json` (optional) and the weights, looked for in this order:
///   `model.safetensors.index.json` (sharded; every shard it names must exist and hold the
///   tensors the index assigns to it), `model.safetensors`, shards
///   `<name>-0000i-of-0000n.safetensors` without an index (all n must exist),
///   `pytorch_model.bin.index.json` (sharded .bin), `pytorch_model.bin`, a single `*.pt` /
///   `*.pth` / `*.bin` file, a single `*.safetensors` file;
/// - a `*.index.json` file: the sharded set it describes (config.json beside it);
/// - any other file: readTensorFile, with `config.json` beside it when present, otherwise
///   the metadata entry `config` of a safetensors file written by convertToSafetensors.
/// config.json must be valid JSON. Throws InputError naming the offending file (a missing
/// shard names the shard, an invalid config names config.json).
/// With `loading` OnDemand, safetensors weights are checked at open but their values are left
/// on disk (see CheckpointFiles::onDemand).
CheckpointFiles loadCheckpointFiles(const std::string& path, TensorLoading loading = TensorLoading::Whole);

/// `ess convert`: reads any checkpoint loadCheckpointFiles accepts and writes all its
/// tensors (names as listed by loadCheckpointFiles, dtypes preserved, bf16/f16 included)
/// to the safetensors file `out`, atomically. Metadata: the source's safetensors metadata,
/// `source` = the input's file name and, when the checkpoint has a config.json, `config` =
/// its text. Throws InputError (naming the input or `out`); nothing is written on failure.
void convertToSafetensors(const std::string& in, const std::string& out);

}  // namespace ess
