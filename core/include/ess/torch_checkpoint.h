// Reading PyTorch `torch.save` checkpoints (.pt, .pth, pytorch_model.bin) without Python and
// without LibTorch's unpickler (which aborts on the OrderedDict that `state_dict()` returns).
//
// Format: since PyTorch 1.6 `torch.save` writes a zip archive `<prefix>/data.pkl` (a pickle,
// protocol 2 by default), `<prefix>/data/<key>` (one raw little-endian storage per key),
// `<prefix>/version` and, since 2.x, `<prefix>/byteorder`. The pickle refers to storages by
// persistent id `('storage', torch.<T>Storage, key, location, numel)` and rebuilds tensors
// with `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`.
//
// A restricted unpickler reads it: it understands the opcodes of protocols 0-5 that
// weights files use, allows only the globals that weights need (collections.OrderedDict,
// torch._utils._rebuild_tensor_v2 / _rebuild_parameter / _rebuild_parameter_with_state,
// torch.<T>Storage for Float, Double, Half, BFloat16, Long, Int, Short, Char, Byte, Bool,
// torch.UntypedStorage, builtins set / frozenset, _codecs.encode for protocol-2 bytes) and
// never runs code from the file.
#pragma once
#include <string>

#include "ess/tensors.h"

namespace ess {

/// Reads every tensor of a `torch.save` zip archive into contiguous CPU tensors (views and
/// tensors sharing one storage are materialized separately; storage dtype preserved).
/// Names follow docs/definitions.md section 6: dict keys joined with '/' (`model/emb.weight`), list
/// and tuple items by index, a top-level state dict's keys as they are, a file holding a
/// single tensor gives the name `tensor`. Non-tensor leaves (numbers, strings, None) are
/// read but not listed. Order: the order of the pickled containers. `metadata` is empty.
/// Throws InputError `<path>: <what is wrong>`: missing / unreadable file, not a zip
/// archive, the legacy (pre-1.6) format, a TorchScript archive, a global other than the
/// allowed ones ("refusing to unpickle global 'module.name' ..."), a malformed pickle,
/// a storage entry that is missing or too small for the tensors viewing it.
NamedTensors readTorchCheckpoint(const std::string& path);

}  // namespace ess
