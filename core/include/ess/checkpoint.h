// Opening checkpoints of any supported kind (docs/definitions.md section 4): a safetensors file, a
// sharded safetensors set with its index, a PyTorch `torch.save` file, or a Hugging Face
// style folder holding one of these and `config.json`. Also `ess convert`.
#pragma once
#include <string>

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
};

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
CheckpointFiles loadCheckpointFiles(const std::string& path);

/// `ess convert`: reads any checkpoint loadCheckpointFiles accepts and writes all its
/// tensors (names as listed by loadCheckpointFiles, dtypes preserved, bf16/f16 included)
/// to the safetensors file `out`, atomically. Metadata: the source's safetensors metadata,
/// `source` = the input's file name and, when the checkpoint has a config.json, `config` =
/// its text. Throws InputError (naming the input or `out`); nothing is written on failure.
void convertToSafetensors(const std::string& in, const std::string& out);

}  // namespace ess
