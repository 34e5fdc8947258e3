// Tests of the checkpoint readers and the safetensors writer: PyTorch fixtures written by
// torch.save itself against their expected tensors, the legacy-format refusal, malformed
// files, crafted pickles (every protocol, strided views, shared storages, refused globals),
// write/read round trips for every dtype, atomic writes, folder layouts and `ess convert`.
#include <ATen/ATen.h>
#include <zip.h>

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ess/checkpoint.h"
#include "ess/error.h"
#include "ess/safetensors.h"
#include "ess/torch_checkpoint.h"

namespace {

// Pickles written by Python's own pickle module (protocols 2 to 5) with stand-ins for the
// torch classes, exactly as torch.save lays them out: persistent ids
// ('storage', torch.<T>Storage, key, 'cpu', numel) and torch._utils._rebuild_tensor_v2.
// The object (storage '0': FloatStorage 0..11, storage '1': LongStorage 10, 20, 30):
//   {'model': OrderedDict(w=[3,4] view, wt=its transpose (stride (1,4)), col=offset 1
//    stride 4, scalar=0-d at offset 5, param=_rebuild_parameter(offset 8, [4])),
//    'layers': [long [3], ([2,2] view at offset 2 stride (1,4), 'x')], 'again': w (memo),
//    'epoch': 7, 'big': 2**70, 'neg': -5, 'f': 1.5, 'none': None, 'b': True,
//    'bytes': b'\x00\xff\x80', 'set': {1, 2}, 'fs': frozenset([3]), 5: 'intkey', 'long': 'y'*300}
// evil_p2: {'x': os.system('true')} (GLOBAL 'posix system'), evil_p4: builtins.eval;
// oob_p2: a view past the end of its storage; nostorage_p2: a storage key with no entry;
// tensor_p2: torch.save(tensor) of storage '0' as a plain [12] tensor.
const char k_views_p2[] =
    "\x80\x02\x7d\x71\x00\x28\x58\x05\x00\x00\x00\x6d\x6f\x64\x65\x6c\x71\x01\x63\x63\x6f\x6c\x6c\x65\x63\x74\x69\x6f"
    "\x6e\x73\x0a\x4f\x72\x64\x65\x72\x65\x64\x44\x69\x63\x74\x0a\x71\x02\x29\x52\x71\x03\x28\x58\x01\x00\x00\x00\x77"
    "\x71\x04\x63\x74\x6f\x72\x63\x68\x2e\x5f\x75\x74\x69\x6c\x73\x0a\x5f\x72\x65\x62\x75\x69\x6c\x64\x5f\x74\x65\x6e"
    "\x73\x6f\x72\x5f\x76\x32\x0a\x71\x05\x28\x28\x58\x07\x00\x00\x00\x73\x74\x6f\x72\x61\x67\x65\x71\x06\x63\x74\x6f"
    "\x72\x63\x68\x0a\x46\x6c\x6f\x61\x74\x53\x74\x6f\x72\x61\x67\x65\x0a\x71\x07\x58\x01\x00\x00\x00\x30\x71\x08\x58"
    "\x03\x00\x00\x00\x63\x70\x75\x71\x09\x4b\x0c\x74\x71\x0a\x51\x4b\x00\x4b\x03\x4b\x04\x86\x71\x0b\x4b\x04\x4b\x01"
    "\x86\x71\x0c\x89\x68\x02\x29\x52\x71\x0d\x74\x71\x0e\x52\x71\x0f\x58\x02\x00\x00\x00\x77\x74\x71\x10\x68\x05\x28"
    "\x28\x68\x06\x68\x07\x68\x08\x68\x09\x4b\x0c\x74\x71\x11\x51\x4b\x00\x4b\x04\x4b\x03\x86\x71\x12\x4b\x01\x4b\x04"
    "\x86\x71\x13\x89\x68\x02\x29\x52\x71\x14\x74\x71\x15\x52\x71\x16\x58\x03\x00\x00\x00\x63\x6f\x6c\x71\x17\x68\x05"
    "\x28\x28\x68\x06\x68\x07\x68\x08\x68\x09\x4b\x0c\x74\x71\x18\x51\x4b\x01\x4b\x03\x85\x71\x19\x4b\x04\x85\x71\x1a"
    "\x89\x68\x02\x29\x52\x71\x1b\x74\x71\x1c\x52\x71\x1d\x58\x06\x00\x00\x00\x73\x63\x61\x6c\x61\x72\x71\x1e\x68\x05"
    "\x28\x28\x68\x06\x68\x07\x68\x08\x68\x09\x4b\x0c\x74\x71\x1f\x51\x4b\x05\x29\x29\x89\x68\x02\x29\x52\x71\x20\x74"
    "\x71\x21\x52\x71\x22\x58\x05\x00\x00\x00\x70\x61\x72\x61\x6d\x71\x23\x63\x74\x6f\x72\x63\x68\x2e\x5f\x75\x74\x69"
    "\x6c\x73\x0a\x5f\x72\x65\x62\x75\x69\x6c\x64\x5f\x70\x61\x72\x61\x6d\x65\x74\x65\x72\x0a\x71\x24\x68\x05\x28\x28"
    "\x68\x06\x68\x07\x68\x08\x68\x09\x4b\x0c\x74\x71\x25\x51\x4b\x08\x68\x1a\x4b\x01\x85\x71\x26\x89\x68\x02\x29\x52"
    "\x71\x27\x74\x71\x28\x52\x71\x29\x88\x68\x02\x29\x52\x71\x2a\x87\x71\x2b\x52\x71\x2c\x75\x58\x06\x00\x00\x00\x6c"
    "\x61\x79\x65\x72\x73\x71\x2d\x5d\x71\x2e\x28\x68\x05\x28\x28\x68\x06\x63\x74\x6f\x72\x63\x68\x0a\x4c\x6f\x6e\x67"
    "\x53\x74\x6f\x72\x61\x67\x65\x0a\x71\x2f\x58\x01\x00\x00\x00\x31\x71\x30\x68\x09\x4b\x03\x74\x71\x31\x51\x4b\x00"
    "\x68\x19\x68\x26\x89\x68\x02\x29\x52\x71\x32\x74\x71\x33\x52\x71\x34\x68\x05\x28\x28\x68\x06\x68\x07\x68\x08\x68"
    "\x09\x4b\x0c\x74\x71\x35\x51\x4b\x02\x4b\x02\x4b\x02\x86\x71\x36\x68\x13\x89\x68\x02\x29\x52\x71\x37\x74\x71\x38"
    "\x52\x71\x39\x58\x01\x00\x00\x00\x78\x71\x3a\x86\x71\x3b\x65\x58\x05\x00\x00\x00\x61\x67\x61\x69\x6e\x71\x3c\x68"
    "\x0f\x58\x05\x00\x00\x00\x65\x70\x6f\x63\x68\x71\x3d\x4b\x07\x58\x03\x00\x00\x00\x62\x69\x67\x71\x3e\x8a\x09\x00"
    "\x00\x00\x00\x00\x00\x00\x00\x40\x58\x03\x00\x00\x00\x6e\x65\x67\x71\x3f\x4a\xfb\xff\xff\xff\x58\x01\x00\x00\x00"
    "\x66\x71\x40\x47\x3f\xf8\x00\x00\x00\x00\x00\x00\x58\x04\x00\x00\x00\x6e\x6f\x6e\x65\x71\x41\x4e\x58\x01\x00\x00"
    "\x00\x62\x71\x42\x88\x58\x05\x00\x00\x00\x62\x79\x74\x65\x73\x71\x43\x63\x5f\x63\x6f\x64\x65\x63\x73\x0a\x65\x6e"
    "\x63\x6f\x64\x65\x0a\x71\x44\x58\x05\x00\x00\x00\x00\xc3\xbf\xc2\x80\x71\x45\x58\x06\x00\x00\x00\x6c\x61\x74\x69"
    "\x6e\x31\x71\x46\x86\x71\x47\x52\x71\x48\x58\x03\x00\x00\x00\x73\x65\x74\x71\x49\x63\x5f\x5f\x62\x75\x69\x6c\x74"
    "\x69\x6e\x5f\x5f\x0a\x73\x65\x74\x0a\x71\x4a\x5d\x71\x4b\x28\x4b\x01\x4b\x02\x65\x85\x71\x4c\x52\x71\x4d\x58\x02"
    "\x00\x00\x00\x66\x73\x71\x4e\x63\x5f\x5f\x62\x75\x69\x6c\x74\x69\x6e\x5f\x5f\x0a\x66\x72\x6f\x7a\x65\x6e\x73\x65"
    "\x74\x0a\x71\x4f\x5d\x71\x50\x4b\x03\x61\x85\x71\x51\x52\x71\x52\x4b\x05\x58\x06\x00\x00\x00\x69\x6e\x74\x6b\x65"
    "\x79\x71\x53\x58\x04\x00\x00\x00\x6c\x6f\x6e\x67\x71\x54\x58\x2c\x01\x00\x00\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x71\x55\x75\x2e";
const size_t k_views_p2_len = 1163;
const char k_views_p3[] =
    "\x80\x03\x7d\x71\x00\x28\x58\x05\x00\x00\x00\x6d\x6f\x64\x65\x6c\x71\x01\x63\x63\x6f\x6c\x6c\x65\x63\x74\x69\x6f"
    "\x6e\x73\x0a\x4f\x72\x64\x65\x72\x65\x64\x44\x69\x63\x74\x0a\x71\x02\x29\x52\x71\x03\x28\x58\x01\x00\x00\x00\x77"
    "\x71\x04\x63\x74\x6f\x72\x63\x68\x2e\x5f\x75\x74\x69\x6c\x73\x0a\x5f\x72\x65\x62\x75\x69\x6c\x64\x5f\x74\x65\x6e"
    "\x73\x6f\x72\x5f\x76\x32\x0a\x71\x05\x28\x28\x58\x07\x00\x00\x00\x73\x74\x6f\x72\x61\x67\x65\x71\x06\x63\x74\x6f"
    "\x72\x63\x68\x0a\x46\x6c\x6f\x61\x74\x53\x74\x6f\x72\x61\x67\x65\x0a\x71\x07\x58\x01\x00\x00\x00\x30\x71\x08\x58"
    "\x03\x00\x00\x00\x63\x70\x75\x71\x09\x4b\x0c\x74\x71\x0a\x51\x4b\x00\x4b\x03\x4b\x04\x86\x71\x0b\x4b\x04\x4b\x01"
    "\x86\x71\x0c\x89\x68\x02\x29\x52\x71\x0d\x74\x71\x0e\x52\x71\x0f\x58\x02\x00\x00\x00\x77\x74\x71\x10\x68\x05\x28"
    "\x28\x68\x06\x68\x07\x68\x08\x68\x09\x4b\x0c\x74\x71\x11\x51\x4b\x00\x4b\x04\x4b\x03\x86\x71\x12\x4b\x01\x4b\x04"
    "\x86\x71\x13\x89\x68\x02\x29\x52\x71\x14\x74\x71\x15\x52\x71\x16\x58\x03\x00\x00\x00\x63\x6f\x6c\x71\x17\x68\x05"
    "\x28\x28\x68\x06\x68\x07\x68\x08\x68\x09\x4b\x0c\x74\x71\x18\x51\x4b\x01\x4b\x03\x85\x71\x19\x4b\x04\x85\x71\x1a"
    "\x89\x68\x02\x29\x52\x71\x1b\x74\x71\x1c\x52\x71\x1d\x58\x06\x00\x00\x00\x73\x63\x61\x6c\x61\x72\x71\x1e\x68\x05"
    "\x28\x28\x68\x06\x68\x07\x68\x08\x68\x09\x4b\x0c\x74\x71\x1f\x51\x4b\x05\x29\x29\x89\x68\x02\x29\x52\x71\x20\x74"
    "\x71\x21\x52\x71\x22\x58\x05\x00\x00\x00\x70\x61\x72\x61\x6d\x71\x23\x63\x74\x6f\x72\x63\x68\x2e\x5f\x75\x74\x69"
    "\x6c\x73\x0a\x5f\x72\x65\x62\x75\x69\x6c\x64\x5f\x70\x61\x72\x61\x6d\x65\x74\x65\x72\x0a\x71\x24\x68\x05\x28\x28"
    "\x68\x06\x68\x07\x68\x08\x68\x09\x4b\x0c\x74\x71\x25\x51\x4b\x08\x68\x1a\x4b\x01\x85\x71\x26\x89\x68\x02\x29\x52"
    "\x71\x27\x74\x71\x28\x52\x71\x29\x88\x68\x02\x29\x52\x71\x2a\x87\x71\x2b\x52\x71\x2c\x75\x58\x06\x00\x00\x00\x6c"
    "\x61\x79\x65\x72\x73\x71\x2d\x5d\x71\x2e\x28\x68\x05\x28\x28\x68\x06\x63\x74\x6f\x72\x63\x68\x0a\x4c\x6f\x6e\x67"
    "\x53\x74\x6f\x72\x61\x67\x65\x0a\x71\x2f\x58\x01\x00\x00\x00\x31\x71\x30\x68\x09\x4b\x03\x74\x71\x31\x51\x4b\x00"
    "\x68\x19\x68\x26\x89\x68\x02\x29\x52\x71\x32\x74\x71\x33\x52\x71\x34\x68\x05\x28\x28\x68\x06\x68\x07\x68\x08\x68"
    "\x09\x4b\x0c\x74\x71\x35\x51\x4b\x02\x4b\x02\x4b\x02\x86\x71\x36\x68\x13\x89\x68\x02\x29\x52\x71\x37\x74\x71\x38"
    "\x52\x71\x39\x58\x01\x00\x00\x00\x78\x71\x3a\x86\x71\x3b\x65\x58\x05\x00\x00\x00\x61\x67\x61\x69\x6e\x71\x3c\x68"
    "\x0f\x58\x05\x00\x00\x00\x65\x70\x6f\x63\x68\x71\x3d\x4b\x07\x58\x03\x00\x00\x00\x62\x69\x67\x71\x3e\x8a\x09\x00"
    "\x00\x00\x00\x00\x00\x00\x00\x40\x58\x03\x00\x00\x00\x6e\x65\x67\x71\x3f\x4a\xfb\xff\xff\xff\x58\x01\x00\x00\x00"
    "\x66\x71\x40\x47\x3f\xf8\x00\x00\x00\x00\x00\x00\x58\x04\x00\x00\x00\x6e\x6f\x6e\x65\x71\x41\x4e\x58\x01\x00\x00"
    "\x00\x62\x71\x42\x88\x58\x05\x00\x00\x00\x62\x79\x74\x65\x73\x71\x43\x43\x03\x00\xff\x80\x71\x44\x58\x03\x00\x00"
    "\x00\x73\x65\x74\x71\x45\x63\x62\x75\x69\x6c\x74\x69\x6e\x73\x0a\x73\x65\x74\x0a\x71\x46\x5d\x71\x47\x28\x4b\x01"
    "\x4b\x02\x65\x85\x71\x48\x52\x71\x49\x58\x02\x00\x00\x00\x66\x73\x71\x4a\x63\x62\x75\x69\x6c\x74\x69\x6e\x73\x0a"
    "\x66\x72\x6f\x7a\x65\x6e\x73\x65\x74\x0a\x71\x4b\x5d\x71\x4c\x4b\x03\x61\x85\x71\x4d\x52\x71\x4e\x4b\x05\x58\x06"
    "\x00\x00\x00\x69\x6e\x74\x6b\x65\x79\x71\x4f\x58\x04\x00\x00\x00\x6c\x6f\x6e\x67\x71\x50\x58\x2c\x01\x00\x00\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x71\x51\x75\x2e";
const size_t k_views_p3_len = 1115;
const char k_views_p4[] =
    "\x80\x04\x95\x94\x03\x00\x00\x00\x00\x00\x00\x7d\x94\x28\x8c\x05\x6d\x6f\x64\x65\x6c\x94\x8c\x0b\x63\x6f\x6c\x6c"
    "\x65\x63\x74\x69\x6f\x6e\x73\x94\x8c\x0b\x4f\x72\x64\x65\x72\x65\x64\x44\x69\x63\x74\x94\x93\x94\x29\x52\x94\x28"
    "\x8c\x01\x77\x94\x8c\x0c\x74\x6f\x72\x63\x68\x2e\x5f\x75\x74\x69\x6c\x73\x94\x8c\x12\x5f\x72\x65\x62\x75\x69\x6c"
    "\x64\x5f\x74\x65\x6e\x73\x6f\x72\x5f\x76\x32\x94\x93\x94\x28\x28\x8c\x07\x73\x74\x6f\x72\x61\x67\x65\x94\x8c\x05"
    "\x74\x6f\x72\x63\x68\x94\x8c\x0c\x46\x6c\x6f\x61\x74\x53\x74\x6f\x72\x61\x67\x65\x94\x93\x94\x8c\x01\x30\x94\x8c"
    "\x03\x63\x70\x75\x94\x4b\x0c\x74\x94\x51\x4b\x00\x4b\x03\x4b\x04\x86\x94\x4b\x04\x4b\x01\x86\x94\x89\x68\x04\x29"
    "\x52\x94\x74\x94\x52\x94\x8c\x02\x77\x74\x94\x68\x09\x28\x28\x68\x0a\x68\x0d\x68\x0e\x68\x0f\x4b\x0c\x74\x94\x51"
    "\x4b\x00\x4b\x04\x4b\x03\x86\x94\x4b\x01\x4b\x04\x86\x94\x89\x68\x04\x29\x52\x94\x74\x94\x52\x94\x8c\x03\x63\x6f"
    "\x6c\x94\x68\x09\x28\x28\x68\x0a\x68\x0d\x68\x0e\x68\x0f\x4b\x0c\x74\x94\x51\x4b\x01\x4b\x03\x85\x94\x4b\x04\x85"
    "\x94\x89\x68\x04\x29\x52\x94\x74\x94\x52\x94\x8c\x06\x73\x63\x61\x6c\x61\x72\x94\x68\x09\x28\x28\x68\x0a\x68\x0d"
    "\x68\x0e\x68\x0f\x4b\x0c\x74\x94\x51\x4b\x05\x29\x29\x89\x68\x04\x29\x52\x94\x74\x94\x52\x94\x8c\x05\x70\x61\x72"
    "\x61\x6d\x94\x68\x07\x8c\x12\x5f\x72\x65\x62\x75\x69\x6c\x64\x5f\x70\x61\x72\x61\x6d\x65\x74\x65\x72\x94\x93\x94"
    "\x68\x09\x28\x28\x68\x0a\x68\x0d\x68\x0e\x68\x0f\x4b\x0c\x74\x94\x51\x4b\x08\x68\x20\x4b\x01\x85\x94\x89\x68\x04"
    "\x29\x52\x94\x74\x94\x52\x94\x88\x68\x04\x29\x52\x94\x87\x94\x52\x94\x75\x8c\x06\x6c\x61\x79\x65\x72\x73\x94\x5d"
    "\x94\x28\x68\x09\x28\x28\x68\x0a\x68\x0b\x8c\x0b\x4c\x6f\x6e\x67\x53\x74\x6f\x72\x61\x67\x65\x94\x93\x94\x8c\x01"
    "\x31\x94\x68\x0f\x4b\x03\x74\x94\x51\x4b\x00\x68\x1f\x68\x2d\x89\x68\x04\x29\x52\x94\x74\x94\x52\x94\x68\x09\x28"
    "\x28\x68\x0a\x68\x0d\x68\x0e\x68\x0f\x4b\x0c\x74\x94\x51\x4b\x02\x4b\x02\x4b\x02\x86\x94\x68\x19\x89\x68\x04\x29"
    "\x52\x94\x74\x94\x52\x94\x8c\x01\x78\x94\x86\x94\x65\x8c\x05\x61\x67\x61\x69\x6e\x94\x68\x15\x8c\x05\x65\x70\x6f"
    "\x63\x68\x94\x4b\x07\x8c\x03\x62\x69\x67\x94\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x40\x8c\x03\x6e\x65\x67\x94"
    "\x4a\xfb\xff\xff\xff\x8c\x01\x66\x94\x47\x3f\xf8\x00\x00\x00\x00\x00\x00\x8c\x04\x6e\x6f\x6e\x65\x94\x4e\x8c\x01"
    "\x62\x94\x88\x8c\x05\x62\x79\x74\x65\x73\x94\x43\x03\x00\xff\x80\x94\x8c\x03\x73\x65\x74\x94\x8f\x94\x28\x4b\x01"
    "\x4b\x02\x90\x8c\x02\x66\x73\x94\x28\x4b\x03\x91\x94\x4b\x05\x8c\x06\x69\x6e\x74\x6b\x65\x79\x94\x8c\x04\x6c\x6f"
    "\x6e\x67\x94\x58\x2c\x01\x00\x00\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x94\x75\x2e";
const size_t k_views_p4_len = 927;
const char k_views_p5[] =
    "\x80\x05\x95\x94\x03\x00\x00\x00\x00\x00\x00\x7d\x94\x28\x8c\x05\x6d\x6f\x64\x65\x6c\x94\x8c\x0b\x63\x6f\x6c\x6c"
    "\x65\x63\x74\x69\x6f\x6e\x73\x94\x8c\x0b\x4f\x72\x64\x65\x72\x65\x64\x44\x69\x63\x74\x94\x93\x94\x29\x52\x94\x28"
    "\x8c\x01\x77\x94\x8c\x0c\x74\x6f\x72\x63\x68\x2e\x5f\x75\x74\x69\x6c\x73\x94\x8c\x12\x5f\x72\x65\x62\x75\x69\x6c"
    "\x64\x5f\x74\x65\x6e\x73\x6f\x72\x5f\x76\x32\x94\x93\x94\x28\x28\x8c\x07\x73\x74\x6f\x72\x61\x67\x65\x94\x8c\x05"
    "\x74\x6f\x72\x63\x68\x94\x8c\x0c\x46\x6c\x6f\x61\x74\x53\x74\x6f\x72\x61\x67\x65\x94\x93\x94\x8c\x01\x30\x94\x8c"
    "\x03\x63\x70\x75\x94\x4b\x0c\x74\x94\x51\x4b\x00\x4b\x03\x4b\x04\x86\x94\x4b\x04\x4b\x01\x86\x94\x89\x68\x04\x29"
    "\x52\x94\x74\x94\x52\x94\x8c\x02\x77\x74\x94\x68\x09\x28\x28\x68\x0a\x68\x0d\x68\x0e\x68\x0f\x4b\x0c\x74\x94\x51"
    "\x4b\x00\x4b\x04\x4b\x03\x86\x94\x4b\x01\x4b\x04\x86\x94\x89\x68\x04\x29\x52\x94\x74\x94\x52\x94\x8c\x03\x63\x6f"
    "\x6c\x94\x68\x09\x28\x28\x68\x0a\x68\x0d\x68\x0e\x68\x0f\x4b\x0c\x74\x94\x51\x4b\x01\x4b\x03\x85\x94\x4b\x04\x85"
    "\x94\x89\x68\x04\x29\x52\x94\x74\x94\x52\x94\x8c\x06\x73\x63\x61\x6c\x61\x72\x94\x68\x09\x28\x28\x68\x0a\x68\x0d"
    "\x68\x0e\x68\x0f\x4b\x0c\x74\x94\x51\x4b\x05\x29\x29\x89\x68\x04\x29\x52\x94\x74\x94\x52\x94\x8c\x05\x70\x61\x72"
    "\x61\x6d\x94\x68\x07\x8c\x12\x5f\x72\x65\x62\x75\x69\x6c\x64\x5f\x70\x61\x72\x61\x6d\x65\x74\x65\x72\x94\x93\x94"
    "\x68\x09\x28\x28\x68\x0a\x68\x0d\x68\x0e\x68\x0f\x4b\x0c\x74\x94\x51\x4b\x08\x68\x20\x4b\x01\x85\x94\x89\x68\x04"
    "\x29\x52\x94\x74\x94\x52\x94\x88\x68\x04\x29\x52\x94\x87\x94\x52\x94\x75\x8c\x06\x6c\x61\x79\x65\x72\x73\x94\x5d"
    "\x94\x28\x68\x09\x28\x28\x68\x0a\x68\x0b\x8c\x0b\x4c\x6f\x6e\x67\x53\x74\x6f\x72\x61\x67\x65\x94\x93\x94\x8c\x01"
    "\x31\x94\x68\x0f\x4b\x03\x74\x94\x51\x4b\x00\x68\x1f\x68\x2d\x89\x68\x04\x29\x52\x94\x74\x94\x52\x94\x68\x09\x28"
    "\x28\x68\x0a\x68\x0d\x68\x0e\x68\x0f\x4b\x0c\x74\x94\x51\x4b\x02\x4b\x02\x4b\x02\x86\x94\x68\x19\x89\x68\x04\x29"
    "\x52\x94\x74\x94\x52\x94\x8c\x01\x78\x94\x86\x94\x65\x8c\x05\x61\x67\x61\x69\x6e\x94\x68\x15\x8c\x05\x65\x70\x6f"
    "\x63\x68\x94\x4b\x07\x8c\x03\x62\x69\x67\x94\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x40\x8c\x03\x6e\x65\x67\x94"
    "\x4a\xfb\xff\xff\xff\x8c\x01\x66\x94\x47\x3f\xf8\x00\x00\x00\x00\x00\x00\x8c\x04\x6e\x6f\x6e\x65\x94\x4e\x8c\x01"
    "\x62\x94\x88\x8c\x05\x62\x79\x74\x65\x73\x94\x43\x03\x00\xff\x80\x94\x8c\x03\x73\x65\x74\x94\x8f\x94\x28\x4b\x01"
    "\x4b\x02\x90\x8c\x02\x66\x73\x94\x28\x4b\x03\x91\x94\x4b\x05\x8c\x06\x69\x6e\x74\x6b\x65\x79\x94\x8c\x04\x6c\x6f"
    "\x6e\x67\x94\x58\x2c\x01\x00\x00\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x94\x75\x2e";
const size_t k_views_p5_len = 927;
const char k_evil_p2[] =
    "\x80\x02\x7d\x71\x00\x58\x01\x00\x00\x00\x78\x71\x01\x63\x70\x6f\x73\x69\x78\x0a\x73\x79\x73\x74\x65\x6d\x0a\x71"
    "\x02\x58\x04\x00\x00\x00\x74\x72\x75\x65\x71\x03\x85\x71\x04\x52\x71\x05\x73\x2e";
const size_t k_evil_p2_len = 48;
const char k_evil_p4[] =
    "\x80\x04\x95\x24\x00\x00\x00\x00\x00\x00\x00\x7d\x94\x8c\x01\x78\x94\x8c\x08\x62\x75\x69\x6c\x74\x69\x6e\x73\x94"
    "\x8c\x04\x65\x76\x61\x6c\x94\x93\x94\x8c\x01\x31\x94\x85\x94\x52\x94\x73\x2e";
const size_t k_evil_p4_len = 47;
const char k_oob_p2[] =
    "\x80\x02\x7d\x71\x00\x58\x01\x00\x00\x00\x78\x71\x01\x63\x74\x6f\x72\x63\x68\x2e\x5f\x75\x74\x69\x6c\x73\x0a\x5f"
    "\x72\x65\x62\x75\x69\x6c\x64\x5f\x74\x65\x6e\x73\x6f\x72\x5f\x76\x32\x0a\x71\x02\x28\x28\x58\x07\x00\x00\x00\x73"
    "\x74\x6f\x72\x61\x67\x65\x71\x03\x63\x74\x6f\x72\x63\x68\x0a\x46\x6c\x6f\x61\x74\x53\x74\x6f\x72\x61\x67\x65\x0a"
    "\x71\x04\x58\x01\x00\x00\x00\x30\x71\x05\x58\x03\x00\x00\x00\x63\x70\x75\x71\x06\x4b\x0c\x74\x71\x07\x51\x4b\x0a"
    "\x4b\x03\x85\x71\x08\x4b\x01\x85\x71\x09\x89\x63\x63\x6f\x6c\x6c\x65\x63\x74\x69\x6f\x6e\x73\x0a\x4f\x72\x64\x65"
    "\x72\x65\x64\x44\x69\x63\x74\x0a\x71\x0a\x29\x52\x71\x0b\x74\x71\x0c\x52\x71\x0d\x73\x2e";
const size_t k_oob_p2_len = 162;
const char k_nostorage_p2[] =
    "\x80\x02\x7d\x71\x00\x58\x01\x00\x00\x00\x78\x71\x01\x63\x74\x6f\x72\x63\x68\x2e\x5f\x75\x74\x69\x6c\x73\x0a\x5f"
    "\x72\x65\x62\x75\x69\x6c\x64\x5f\x74\x65\x6e\x73\x6f\x72\x5f\x76\x32\x0a\x71\x02\x28\x28\x58\x07\x00\x00\x00\x73"
    "\x74\x6f\x72\x61\x67\x65\x71\x03\x63\x74\x6f\x72\x63\x68\x0a\x46\x6c\x6f\x61\x74\x53\x74\x6f\x72\x61\x67\x65\x0a"
    "\x71\x04\x58\x01\x00\x00\x00\x39\x71\x05\x58\x03\x00\x00\x00\x63\x70\x75\x71\x06\x4b\x04\x74\x71\x07\x51\x4b\x00"
    "\x4b\x04\x85\x71\x08\x4b\x01\x85\x71\x09\x89\x63\x63\x6f\x6c\x6c\x65\x63\x74\x69\x6f\x6e\x73\x0a\x4f\x72\x64\x65"
    "\x72\x65\x64\x44\x69\x63\x74\x0a\x71\x0a\x29\x52\x71\x0b\x74\x71\x0c\x52\x71\x0d\x73\x2e";
const size_t k_nostorage_p2_len = 162;
const char k_tensor_p2[] =
    "\x80\x02\x63\x74\x6f\x72\x63\x68\x2e\x5f\x75\x74\x69\x6c\x73\x0a\x5f\x72\x65\x62\x75\x69\x6c\x64\x5f\x74\x65\x6e"
    "\x73\x6f\x72\x5f\x76\x32\x0a\x71\x00\x28\x28\x58\x07\x00\x00\x00\x73\x74\x6f\x72\x61\x67\x65\x71\x01\x63\x74\x6f"
    "\x72\x63\x68\x0a\x46\x6c\x6f\x61\x74\x53\x74\x6f\x72\x61\x67\x65\x0a\x71\x02\x58\x01\x00\x00\x00\x30\x71\x03\x58"
    "\x03\x00\x00\x00\x63\x70\x75\x71\x04\x4b\x0c\x74\x71\x05\x51\x4b\x00\x4b\x0c\x85\x71\x06\x4b\x01\x85\x71\x07\x89"
    "\x63\x63\x6f\x6c\x6c\x65\x63\x74\x69\x6f\x6e\x73\x0a\x4f\x72\x64\x65\x72\x65\x64\x44\x69\x63\x74\x0a\x71\x08\x29"
    "\x52\x71\x09\x74\x71\x0a\x52\x71\x0b\x2e";
const size_t k_tensor_p2_len = 150;

std::string pickle(const char* data, size_t len) { return std::string(data, len); }

std::string dataPath(const std::string& rel) { return std::string(ESS_TEST_DATA_DIR) + "/" + rel; }

std::string bytesOf(const at::Tensor& t) {
  at::Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.numel() * c.element_size()));
}

// A torch.save-like archive: <prefix>/data.pkl, <prefix>/data/<key>, <prefix>/version.
void writeZip(const std::string& path, const std::vector<std::pair<std::string, std::string>>& entries) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  QVERIFY2(z, "cannot create zip");
  for (const auto& [name, data] : entries) {
    zip_source_t* src = zip_source_buffer(z, data.data(), data.size(), 0);
    QVERIFY(src);
    zip_int64_t idx = zip_file_add(z, name.c_str(), src, ZIP_FL_OVERWRITE);
    QVERIFY(idx >= 0);
    zip_set_file_compression(z, static_cast<zip_uint64_t>(idx), ZIP_CM_STORE, 0);
  }
  QCOMPARE(zip_close(z), 0);
}

std::vector<std::pair<std::string, std::string>> archive(const std::string& pkl, bool withStorages = true) {
  std::vector<std::pair<std::string, std::string>> e = {{"archive/data.pkl", pkl}, {"archive/version", "3\n"}};
  if (withStorages) {
    e.emplace_back("archive/data/0", bytesOf(at::arange(12, at::kFloat)));
    e.emplace_back("archive/data/1", bytesOf(at::tensor({10, 20, 30}, at::kLong)));
  }
  return e;
}

void writeRaw(const std::string& path, const std::string& header, size_t dataBytes) {
  std::ofstream f(path, std::ios::binary);
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) f.put(static_cast<char>((n >> (8 * i)) & 0xff));
  f << header << std::string(dataBytes, '\0');
}

// The InputError message of `fn`, or "" when it did not throw one.
template <class F>
std::string inputError(F fn) {
  try {
    fn();
  } catch (const ess::InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<other exception> ") + e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

QStringList filesIn(const QString& dir) {
  return QDir(dir).entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot);
}

// Same names in the same order, same shapes, same values. Expected files hold bf16/f16 as
// f32: those compare after conversion; integers must keep their exact dtype.
void compareToExpected(const ess::NamedTensors& got, const ess::NamedTensors& want) {
  QCOMPARE(got.tensors.size(), want.tensors.size());
  for (size_t i = 0; i < got.tensors.size(); ++i) {
    const auto& [gn, g] = got.tensors[i];
    const auto& [wn, w] = want.tensors[i];
    QCOMPARE(QString::fromStdString(gn), QString::fromStdString(wn));
    QCOMPARE(g.sizes().vec(), w.sizes().vec());
    QVERIFY(g.is_contiguous());
    QVERIFY(g.device().is_cpu());
    if (w.scalar_type() == at::kFloat &&
        (g.scalar_type() == at::kHalf || g.scalar_type() == at::kBFloat16 || g.scalar_type() == at::kFloat)) {
      QVERIFY2(at::equal(g.to(at::kFloat), w), gn.c_str());
    } else {
      QCOMPARE(g.scalar_type(), w.scalar_type());
      QVERIFY2(at::equal(g, w), gn.c_str());
    }
  }
}

}  // namespace

class TestIo : public QObject {
  Q_OBJECT

 private slots:
  void pytorchFixtures_data() {
    QTest::addColumn<QString>("name");
    for (const char* n : {"half_precision", "single_entry", "state_dict_ordered", "training_checkpoint_nested"})
      QTest::newRow(n) << QString(n);
  }
  void pytorchFixtures() {
    QFETCH(QString, name);
    const std::string pt = dataPath("pytorch/" + name.toStdString() + ".pt");
    const ess::NamedTensors want =
        ess::readSafetensors(dataPath("pytorch/" + name.toStdString() + ".expected.safetensors"));
    QVERIFY(!want.tensors.empty());
    compareToExpected(ess::readTorchCheckpoint(pt), want);
    compareToExpected(ess::readTensorFile(pt), want);
    ess::CheckpointFiles cf = ess::loadCheckpointFiles(pt);
    QVERIFY(cf.configJson.empty());
    compareToExpected(cf.tensors, want);
  }

  void halfPrecisionKeepsDtype() {
    const ess::NamedTensors t = ess::readTorchCheckpoint(dataPath("pytorch/half_precision.pt"));
    QVERIFY(t.find("w_bf16") && t.find("w_f16"));
    QCOMPARE(t.find("w_bf16")->scalar_type(), at::kBFloat16);
    QCOMPARE(t.find("w_f16")->scalar_type(), at::kHalf);
  }

  void legacyFormatRefused() {
    const std::string p = dataPath("pytorch/legacy_format.pt");
    for (const std::string& msg :
         {inputError([&] { ess::readTorchCheckpoint(p); }), inputError([&] { ess::readTensorFile(p); }),
          inputError([&] { ess::loadCheckpointFiles(p); })}) {
      QVERIFY2(contains(msg, "legacy_format.pt: legacy (pre-1.6) PyTorch format is not supported"), msg.c_str());
      QVERIFY2(contains(msg, "torch.save"), msg.c_str());
    }
  }

  void badFiles() {
    QDir dir(QString(ESS_TEST_DATA_DIR) + "/bad");
    const QStringList files = dir.entryList(QDir::Files);
    QVERIFY(files.size() >= 6);
    for (const QString& f : files) {
      const std::string p = dir.filePath(f).toStdString();
      // Valid safetensors whose content is rejected elsewhere (operator loading).
      if (f == "nan_operator.safetensors" || f == "operator_not_square.safetensors") {
        ess::NamedTensors t = ess::readTensorFile(p);
        QVERIFY(t.find("operator"));
        continue;
      }
      // Valid safetensors of generators refused by the operator session (tests/cli/test_cli_robust.cpp).
      if (f == "generators_n0.safetensors" || f == "operator_and_generators.safetensors") {
        QVERIFY(ess::readTensorFile(p).find("C"));
        continue;
      }
      for (const std::string& msg :
           {inputError([&] { ess::readSafetensors(p); }), inputError([&] { ess::readTensorFile(p); }),
            inputError([&] { ess::loadCheckpointFiles(p); })})
        QVERIFY2(!msg.empty() && contains(msg, f.toStdString() + ": "), (f.toStdString() + " -> " + msg).c_str());
    }
    QVERIFY(contains(inputError([&] { ess::readSafetensors(dataPath("bad/header_len_too_big.safetensors")); }),
                     "header length 1099511627776 exceeds file size 10"));
    QVERIFY(contains(inputError([&] { ess::readSafetensors(dataPath("bad/empty.safetensors")); }), "empty"));
    QVERIFY(contains(inputError([&] { ess::readSafetensors(dataPath("bad/not_json.safetensors")); }), "JSON"));
    QVERIFY(contains(inputError([&] { ess::readSafetensors(dataPath("bad/truncated_data.safetensors")); }),
                     "exceeds the data section"));
    const ess::NamedTensors nan = ess::readSafetensors(dataPath("bad/nan_operator.safetensors"));
    QCOMPARE(nan.find("operator")->sizes().vec(), (std::vector<int64_t>{4, 4}));
    QVERIFY(std::isnan(nan.find("operator")->index({0, 0}).item<float>()));
  }

  void missingFileAndFolder() {
    QTemporaryDir tmp;
    const std::string missing = tmp.filePath("nope.safetensors").toStdString();
    const std::string dir = tmp.path().toStdString();
    QVERIFY(contains(inputError([&] { ess::readSafetensors(missing); }), "nope.safetensors: no such file"));
    QVERIFY(contains(inputError([&] { ess::readTensorFile(missing); }), "nope.safetensors: no such file"));
    QVERIFY(contains(inputError([&] { ess::readTorchCheckpoint(missing); }), "nope.safetensors: no such file"));
    QVERIFY(contains(inputError([&] { ess::loadCheckpointFiles(missing); }), "nope.safetensors: no such file"));
    QVERIFY(contains(inputError([&] { ess::readSafetensors(dir); }), dir + ": is a directory"));
    QVERIFY(contains(inputError([&] { ess::readTorchCheckpoint(dir); }), dir + ": is a directory"));
    QVERIFY(contains(inputError([&] { ess::readTensorFile(dir); }), dir + ": is a directory"));
    QVERIFY(contains(inputError([&] { ess::loadCheckpointFiles(dir); }), dir + ": no checkpoint found"));
  }

  void safetensorsHeaderValidation_data() {
    QTest::addColumn<QString>("header");
    QTest::addColumn<int>("dataBytes");
    QTest::addColumn<QString>("expected");
    QTest::newRow("overlap")
        << R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})"
        << 12 << "overlap";
    QTest::newRow("span") << R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})" << 8 << "needs 12";
    QTest::newRow("no dtype") << R"({"a":{"shape":[2],"data_offsets":[0,8]}})" << 8 << "no 'dtype'";
    QTest::newRow("no shape") << R"({"a":{"dtype":"F32","data_offsets":[0,8]}})" << 8 << "no 'shape'";
    QTest::newRow("no offsets") << R"({"a":{"dtype":"F32","shape":[2]}})" << 8 << "no 'data_offsets'";
    QTest::newRow("dtype") << R"({"a":{"dtype":"C64","shape":[2],"data_offsets":[0,16]}})" << 16
                           << "unsupported dtype 'C64'";
    QTest::newRow("negative") << R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})" << 8
                              << "negative dimension";
    QTest::newRow("float dim") << R"({"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})" << 8
                               << "not an integer";
    QTest::newRow("begin>end") << R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})" << 8 << "> end";
    QTest::newRow("offsets pair") << R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})" << 8 << "pair";
    QTest::newRow("past end") << R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})" << 4
                              << "exceeds the data section";
    QTest::newRow("huge shape") << R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}})"
                                << 8 << "too large";
    QTest::newRow("metadata") << R"({"__metadata__":{"k":1}})" << 0 << "not a string";
    QTest::newRow("array") << R"([1,2])" << 0 << "not a JSON object";
    QTest::newRow("entry") << R"({"a":3})" << 0 << "not a JSON object";
  }
  void safetensorsHeaderValidation() {
    QFETCH(QString, header);
    QFETCH(int, dataBytes);
    QFETCH(QString, expected);
    QTemporaryDir tmp;
    const std::string p = tmp.filePath("crafted.safetensors").toStdString();
    writeRaw(p, header.toStdString(), static_cast<size_t>(dataBytes));
    const std::string msg = inputError([&] { ess::readSafetensors(p); });
    QVERIFY2(contains(msg, "crafted.safetensors: ") && contains(msg, expected.toStdString()), msg.c_str());
  }

  void tooShortFile() {
    QTemporaryDir tmp;
    const std::string p = tmp.filePath("short.safetensors").toStdString();
    std::ofstream(p, std::ios::binary) << "abcde";
    QVERIFY(contains(inputError([&] { ess::readSafetensors(p); }), "short.safetensors: file is 5 bytes, too short"));
  }

  // Files of 1 MiB and more are memory-mapped copy-on-write: values as written, tensors stay
  // valid after the NamedTensors that held them are gone, and writing into a loaded tensor
  // neither faults nor changes the file.
  void largeFilesAreMapped() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("big.safetensors").toStdString();
    ess::NamedTensors t;
    t.add("a", at::arange(300000, at::kFloat).reshape({600, 500}));
    t.add("b", at::linspace(-1, 1, 70001, at::kDouble));
    t.add("c", at::full({3}, 7, at::kShort));
    ess::writeSafetensors(path, t);
    QVERIFY(std::filesystem::file_size(path) > (1u << 20));
    at::Tensor a;
    {
      ess::NamedTensors back = ess::readSafetensors(path);
      QVERIFY(at::equal(*back.find("b"), *t.find("b")));
      QVERIFY(at::equal(*back.find("c"), *t.find("c")));
      a = *back.find("a");
    }
    QVERIFY(at::equal(a, *t.find("a")));
    a.mul_(2.0);  // private copy of the touched pages
    QCOMPARE(a[599][499].item<float>(), 2.0f * 299999.0f);
    QVERIFY(at::equal(*ess::readSafetensors(path).find("a"), *t.find("a")));
  }

  // LibTorch tensors and the math library's arrays view each other's bytes (no copy), and the
  // view keeps the storage alive; every safetensors dtype maps both ways.
  void tensorsAndArraysShareMemory() {
    at::Tensor t = at::arange(12, at::kDouble).reshape({3, 4});
    ess::Array a = ess::toArray(t);
    QCOMPARE(a.data(), t.data_ptr());
    QCOMPARE(a.shape(), (std::vector<int64_t>{3, 4}));
    QCOMPARE(int(a.dtype()), int(ess::ArrayDType::F64));
    at::Tensor back;
    {
      ess::Array owned(ess::ArrayDType::F32, {2, 2});
      owned.data<float>()[3] = 5.0f;
      back = ess::toTensor(owned);
      QCOMPARE(back.data_ptr(), owned.data());
    }
    QCOMPARE(back[1][1].item<float>(), 5.0f);  // the tensor holds the array's storage
    for (auto dt : {at::kDouble, at::kFloat, at::kHalf, at::kBFloat16, at::kLong, at::kInt, at::kShort, at::kChar,
                    at::kByte, at::kBool})
      QCOMPARE(ess::toTensor(ess::toArray(at::ones({2}, dt))).scalar_type(), dt);
    QVERIFY(contains(inputError([] { ess::toArray(at::ones({2}, at::kComplexFloat)); }), "has no array type"));
  }

  void roundTripAllDtypes() {
    QTemporaryDir tmp;
    const std::string p = tmp.filePath("all.safetensors").toStdString();
    ess::NamedTensors t;
    at::Tensor base = at::arange(24, at::kDouble).view({2, 3, 4}) - 7.25;
    t.add("f64", base);
    t.add("f32", base.to(at::kFloat));
    t.add("f16", base.to(at::kHalf));
    t.add("bf16", base.to(at::kBFloat16));
    t.add("i64", (base * 1e12).to(at::kLong));
    t.add("i32", (base * 1000).to(at::kInt));
    t.add("i16", (base * 100).to(at::kShort));
    t.add("i8", base.to(at::kChar));
    t.add("u8", (base + 10).to(at::kByte));
    t.add("bool", base.gt(0));
    t.add("scalar", at::scalar_tensor(3.5, at::kFloat));
    t.add("empty", at::empty({0, 5}, at::kFloat));
    t.add("transposed", base.to(at::kFloat).transpose(0, 2));  // non-contiguous input
    t.add("z-last", at::ones({1}, at::kFloat));
    t.metadata["note"] = "round trip";
    t.metadata["unicode"] = "\xc3\xa9t\xc3\xa9";
    ess::writeSafetensors(p, t);

    // Header padded with spaces to a multiple of 8.
    std::ifstream f(p, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
    QCOMPARE(n % 8, uint64_t(0));
    QCOMPARE(bytes[8], '{');
    const std::string header = bytes.substr(8, static_cast<size_t>(n));
    QVERIFY(header.find_last_not_of(' ') == header.rfind('}'));

    const ess::NamedTensors r = ess::readSafetensors(p);
    QCOMPARE(r.metadata, t.metadata);
    QCOMPARE(r.tensors.size(), t.tensors.size());
    for (size_t i = 0; i < t.tensors.size(); ++i) {
      QCOMPARE(r.tensors[i].first, t.tensors[i].first);
      QCOMPARE(r.tensors[i].second.scalar_type(), t.tensors[i].second.scalar_type());
      QCOMPARE(r.tensors[i].second.sizes().vec(), t.tensors[i].second.sizes().vec());
      QVERIFY2(at::equal(r.tensors[i].second, t.tensors[i].second), t.tensors[i].first.c_str());
    }
    QCOMPARE(ess::safetensorsDtypeName(at::kBFloat16), std::string("BF16"));
    QCOMPARE(filesIn(tmp.path()), QStringList{"all.safetensors"});
  }

  void atomicWrite() {
    QTemporaryDir tmp;
    const std::string p = tmp.filePath("out.safetensors").toStdString();
    ess::NamedTensors good;
    good.add("a", at::ones({3}, at::kFloat));
    ess::writeSafetensors(p, good);
    QCOMPARE(filesIn(tmp.path()), QStringList{"out.safetensors"});
    const std::string before = bytesOf(ess::readSafetensors(p).tensors[0].second);

    // Rejected before anything is written: the old file stays, no temporary file is left.
    ess::NamedTensors bad;
    bad.add("a", at::zeros({3}, at::kFloat));
    bad.add("c", at::zeros({2}, at::kComplexFloat));
    QVERIFY(contains(inputError([&] { ess::writeSafetensors(p, bad); }), "out.safetensors: tensor 'c'"));
    ess::NamedTensors dup;
    dup.add("a", at::zeros({1}));
    dup.add("a", at::zeros({1}));
    QVERIFY(contains(inputError([&] { ess::writeSafetensors(p, dup); }), "duplicate tensor name 'a'"));
    QCOMPARE(filesIn(tmp.path()), QStringList{"out.safetensors"});
    QCOMPARE(bytesOf(ess::readSafetensors(p).tensors[0].second), before);

    // Unwritable destination: the error names the path.
    const std::string nodir = tmp.filePath("missing/dir/x.safetensors").toStdString();
    QVERIFY(contains(inputError([&] { ess::writeSafetensors(nodir, good); }), nodir + ": "));
    QCOMPARE(filesIn(tmp.path()), QStringList{"out.safetensors"});

    // Overwrite in place works.
    ess::writeSafetensors(p, good);
    QCOMPARE(filesIn(tmp.path()), QStringList{"out.safetensors"});
  }

  void craftedPickles_data() {
    QTest::addColumn<QByteArray>("pkl");
    QTest::newRow("protocol 2") << QByteArray(k_views_p2, static_cast<int>(k_views_p2_len));
    QTest::newRow("protocol 3") << QByteArray(k_views_p3, static_cast<int>(k_views_p3_len));
    QTest::newRow("protocol 4") << QByteArray(k_views_p4, static_cast<int>(k_views_p4_len));
    QTest::newRow("protocol 5") << QByteArray(k_views_p5, static_cast<int>(k_views_p5_len));
  }
  void craftedPickles() {
    QFETCH(QByteArray, pkl);
    QTemporaryDir tmp;
    const std::string p = tmp.filePath("views.pt").toStdString();
    writeZip(p, archive(pkl.toStdString()));
    const ess::NamedTensors t = ess::readTorchCheckpoint(p);
    const at::Tensor w = at::arange(12, at::kFloat).view({3, 4});
    const std::vector<std::pair<std::string, at::Tensor>> want = {
        {"model/w", w},
        {"model/wt", w.t().contiguous()},
        {"model/col", at::tensor({1.f, 5.f, 9.f})},
        {"model/scalar", at::scalar_tensor(5.f, at::kFloat)},
        {"model/param", at::tensor({8.f, 9.f, 10.f, 11.f})},
        {"layers/0", at::tensor({10, 20, 30}, at::kLong)},
        {"layers/1/0", at::tensor({2.f, 6.f, 3.f, 7.f}).view({2, 2})},
        {"again", w},
    };
    QCOMPARE(t.tensors.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      QCOMPARE(t.tensors[i].first, want[i].first);
      const at::Tensor& g = t.tensors[i].second;
      QCOMPARE(g.scalar_type(), want[i].second.scalar_type());
      QCOMPARE(g.sizes().vec(), want[i].second.sizes().vec());
      QVERIFY(g.is_contiguous());
      QVERIFY2(at::equal(g, want[i].second), want[i].first.c_str());
    }
    // Views of one storage do not alias each other's memory.
    at::Tensor wt = t.find("model/wt")->clone();
    t.find("model/w")->fill_(-1);
    QVERIFY(at::equal(*t.find("model/wt"), wt));
  }

  void refusedGlobals() {
    QTemporaryDir tmp;
    const std::string p2 = tmp.filePath("evil2.pt").toStdString();
    writeZip(p2, archive(pickle(k_evil_p2, k_evil_p2_len), false));
    std::string msg = inputError([&] { ess::readTorchCheckpoint(p2); });
    QVERIFY2(
        contains(
            msg,
            "evil2.pt: refusing to unpickle global 'posix.system' (only weights are read; the file may contain code)"),
        msg.c_str());
    const std::string p4 = tmp.filePath("evil4.pt").toStdString();
    writeZip(p4, archive(pickle(k_evil_p4, k_evil_p4_len), false));
    msg = inputError([&] { ess::readTensorFile(p4); });
    QVERIFY2(contains(msg, "evil4.pt: refusing to unpickle global 'builtins.eval'"), msg.c_str());
  }

  void bareTensorAndByteOrder() {
    QTemporaryDir tmp;
    // torch.save(tensor): one tensor called `tensor`.
    const std::string p = tmp.filePath("bare.pt").toStdString();
    writeZip(p, archive(pickle(k_tensor_p2, k_tensor_p2_len)));
    ess::NamedTensors t = ess::readTorchCheckpoint(p);
    QCOMPARE(t.tensors.size(), size_t(1));
    QCOMPARE(t.tensors[0].first, std::string("tensor"));
    QVERIFY(at::equal(t.tensors[0].second, at::arange(12, at::kFloat)));

    // A big-endian archive (PyTorch 2.x writes <prefix>/byteorder) is byte-swapped on read.
    std::string be = bytesOf(at::arange(12, at::kFloat));
    for (size_t k = 0; k < be.size(); k += 4)
      std::reverse(be.begin() + static_cast<long>(k), be.begin() + static_cast<long>(k) + 4);
    const std::string pb = tmp.filePath("big.pt").toStdString();
    writeZip(pb, {{"archive/data.pkl", pickle(k_tensor_p2, k_tensor_p2_len)},
                  {"archive/byteorder", "big"},
                  {"archive/data/0", be}});
    t = ess::readTorchCheckpoint(pb);
    QVERIFY(at::equal(t.tensors[0].second, at::arange(12, at::kFloat)));
    const std::string pl = tmp.filePath("little.pt").toStdString();
    writeZip(pl, {{"archive/data.pkl", pickle(k_tensor_p2, k_tensor_p2_len)},
                  {"archive/byteorder", "little"},
                  {"archive/data/0", bytesOf(at::arange(12, at::kFloat))}});
    QVERIFY(at::equal(ess::readTorchCheckpoint(pl).tensors[0].second, at::arange(12, at::kFloat)));

    // A storage entry shorter than the storage it declares.
    const std::string ps = tmp.filePath("short_storage.pt").toStdString();
    writeZip(ps,
             {{"archive/data.pkl", pickle(k_tensor_p2, k_tensor_p2_len)}, {"archive/data/0", std::string(40, '\0')}});
    const std::string msg = inputError([&] { ess::readTorchCheckpoint(ps); });
    QVERIFY2(contains(msg, "short_storage.pt: archive entry 'archive/data/0' has 40 bytes, too few for 12 elements"),
             msg.c_str());
  }

  void malformedArchives() {
    QTemporaryDir tmp;
    const std::string oob = tmp.filePath("oob.pt").toStdString();
    writeZip(oob, archive(pickle(k_oob_p2, k_oob_p2_len)));
    std::string msg = inputError([&] { ess::readTorchCheckpoint(oob); });
    QVERIFY2(contains(msg, "oob.pt: tensor view") && contains(msg, "holds 12"), msg.c_str());

    const std::string nost = tmp.filePath("nostorage.pt").toStdString();
    writeZip(nost, archive(pickle(k_nostorage_p2, k_nostorage_p2_len)));
    msg = inputError([&] { ess::readTorchCheckpoint(nost); });
    QVERIFY2(contains(msg, "nostorage.pt: archive entry 'archive/data/9' is missing"), msg.c_str());

    const std::string trunc = tmp.filePath("truncated_pickle.pt").toStdString();
    writeZip(trunc, archive(pickle(k_views_p2, k_views_p2_len / 2)));
    msg = inputError([&] { ess::readTorchCheckpoint(trunc); });
    QVERIFY2(contains(msg, "truncated_pickle.pt: malformed pickle"), msg.c_str());

    const std::string nopkl = tmp.filePath("nopkl.pt").toStdString();
    writeZip(nopkl, {{"archive/version", "3\n"}});
    msg = inputError([&] { ess::readTensorFile(nopkl); });
    QVERIFY2(contains(msg, "nopkl.pt: zip archive without data.pkl"), msg.c_str());

    const std::string ts = tmp.filePath("scripted.pt").toStdString();
    writeZip(ts, {{"archive/data.pkl", pickle(k_views_p2, k_views_p2_len)}, {"archive/code/__torch__.py", "x"}});
    msg = inputError([&] { ess::readTensorFile(ts); });
    QVERIFY2(contains(msg, "scripted.pt: TorchScript"), msg.c_str());

    const std::string text = tmp.filePath("text.pt").toStdString();
    std::ofstream(text) << "hello world";
    msg = inputError([&] { ess::readTorchCheckpoint(text); });
    QVERIFY2(contains(msg, "text.pt: not a PyTorch checkpoint"), msg.c_str());
    msg = inputError([&] { ess::readTensorFile(text); });
    QVERIFY2(contains(msg, "text.pt: "), msg.c_str());

    const std::string empty = tmp.filePath("empty.pt").toStdString();
    std::ofstream(empty).close();
    msg = inputError([&] { ess::readTorchCheckpoint(empty); });
    QVERIFY2(contains(msg, "empty.pt: file is empty"), msg.c_str());

    const std::string badzip = tmp.filePath("badzip.pt").toStdString();
    std::ofstream(badzip, std::ios::binary) << std::string("PK\x03\x04garbage", 11);
    msg = inputError([&] { ess::readTensorFile(badzip); });
    QVERIFY2(contains(msg, "badzip.pt: "), msg.c_str());
  }

  void folders() {
    QTemporaryDir tmp;
    const QString root = tmp.path();
    const ess::NamedTensors want = ess::readTorchCheckpoint(dataPath("pytorch/state_dict_ordered.pt"));
    const std::string config = R"({"model_type": "ess-lm", "d_model": 6})";

    // config.json + model.safetensors
    QDir(root).mkpath("single");
    const std::string single = (root + "/single").toStdString();
    ess::writeSafetensors(single + "/model.safetensors", want);
    std::ofstream(single + "/config.json") << config;
    ess::CheckpointFiles cf = ess::loadCheckpointFiles(single);
    QCOMPARE(cf.configJson, config);
    QCOMPARE(cf.path, single);
    compareToExpected(cf.tensors, want);
    // The file itself picks up the config beside it.
    QCOMPARE(ess::loadCheckpointFiles(single + "/model.safetensors").configJson, config);

    // Sharded with an index.
    QDir(root).mkpath("sharded");
    const std::string sharded = (root + "/sharded").toStdString();
    ess::NamedTensors s1, s2;
    nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
    for (size_t i = 0; i < want.tensors.size(); ++i) {
      (i < 3 ? s1 : s2).add(want.tensors[i].first, want.tensors[i].second);
      index["weight_map"][want.tensors[i].first] =
          i < 3 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
    }
    ess::writeSafetensors(sharded + "/model-00001-of-00002.safetensors", s1);
    ess::writeSafetensors(sharded + "/model-00002-of-00002.safetensors", s2);
    std::ofstream(sharded + "/model.safetensors.index.json") << index.dump();
    compareToExpected(ess::loadCheckpointFiles(sharded).tensors, want);
    compareToExpected(ess::loadCheckpointFiles(sharded + "/model.safetensors.index.json").tensors, want);

    // Shards without the index.
    QDir(root).mkpath("noindex");
    const std::string noindex = (root + "/noindex").toStdString();
    ess::writeSafetensors(noindex + "/model-00001-of-00002.safetensors", s1);
    ess::writeSafetensors(noindex + "/model-00002-of-00002.safetensors", s2);
    compareToExpected(ess::loadCheckpointFiles(noindex).tensors, want);
    QFile::remove(QString::fromStdString(noindex + "/model-00002-of-00002.safetensors"));
    std::string msg = inputError([&] { ess::loadCheckpointFiles(noindex); });
    QVERIFY2(contains(msg, "model-00002-of-00002.safetensors: shard 2 of 00002 is missing"), msg.c_str());

    // A missing shard named by the index is named in the error.
    QFile::remove(QString::fromStdString(sharded + "/model-00002-of-00002.safetensors"));
    msg = inputError([&] { ess::loadCheckpointFiles(sharded); });
    QVERIFY2(contains(msg, "model-00002-of-00002.safetensors: shard listed in model.safetensors.index.json is missing"),
             msg.c_str());
    // A shard that lacks a tensor the index assigns to it.
    ess::writeSafetensors(sharded + "/model-00002-of-00002.safetensors", s1);
    msg = inputError([&] { ess::loadCheckpointFiles(sharded); });
    QVERIFY2(contains(msg, "model-00002-of-00002.safetensors: tensor 'q_proj.weight'") ||
                 contains(msg, "model-00002-of-00002.safetensors: tensor"),
             msg.c_str());

    // pytorch_model.bin
    QDir(root).mkpath("bin");
    const std::string bin = (root + "/bin").toStdString();
    QVERIFY(QFile::copy(QString::fromStdString(dataPath("pytorch/state_dict_ordered.pt")),
                        QString::fromStdString(bin + "/pytorch_model.bin")));
    compareToExpected(ess::loadCheckpointFiles(bin).tensors, want);

    // A single .pt file in a folder, and an invalid config.json named in the error.
    QDir(root).mkpath("pt");
    const std::string pt = (root + "/pt").toStdString();
    QVERIFY(QFile::copy(QString::fromStdString(dataPath("pytorch/training_checkpoint_nested.pt")),
                        QString::fromStdString(pt + "/ckpt.pt")));
    QCOMPARE(ess::loadCheckpointFiles(pt).tensors.tensors.size(), size_t(6));
    std::ofstream(pt + "/config.json") << "{not json";
    msg = inputError([&] { ess::loadCheckpointFiles(pt); });
    QVERIFY2(contains(msg, "config.json: not valid JSON"), msg.c_str());
  }

  void convert() {
    QTemporaryDir tmp;
    for (const char* name : {"half_precision", "training_checkpoint_nested"}) {
      const std::string in = dataPath(std::string("pytorch/") + name + ".pt");
      const std::string out = tmp.filePath(QString(name) + ".safetensors").toStdString();
      ess::convertToSafetensors(in, out);
      const ess::NamedTensors src = ess::readTensorFile(in);
      const ess::NamedTensors got = ess::readSafetensors(out);
      QCOMPARE(got.metadata.at("source"), std::string(name) + ".pt");
      QCOMPARE(got.tensors.size(), src.tensors.size());
      for (size_t i = 0; i < src.tensors.size(); ++i) {
        QCOMPARE(got.tensors[i].first, src.tensors[i].first);
        QCOMPARE(got.tensors[i].second.scalar_type(), src.tensors[i].second.scalar_type());
        QVERIFY(at::equal(got.tensors[i].second, src.tensors[i].second));
      }
      compareToExpected(got, ess::readSafetensors(dataPath(std::string("pytorch/") + name + ".expected.safetensors")));
    }
    // Bad input: error names the input, nothing is written.
    const std::string out = tmp.filePath("legacy.safetensors").toStdString();
    std::string msg = inputError([&] { ess::convertToSafetensors(dataPath("pytorch/legacy_format.pt"), out); });
    QVERIFY2(contains(msg, "legacy_format.pt: legacy"), msg.c_str());
    QVERIFY(!QFile::exists(QString::fromStdString(out)));

    // A folder with config.json: the converted file carries it.
    QDir(tmp.path()).mkpath("hf");
    const std::string hf = tmp.filePath("hf").toStdString();
    ess::writeSafetensors(hf + "/model.safetensors", ess::readTorchCheckpoint(dataPath("pytorch/single_entry.pt")));
    std::ofstream(hf + "/config.json") << R"({"model_type": "ess-lm"})";
    const std::string conv = tmp.filePath("conv.safetensors").toStdString();
    ess::convertToSafetensors(hf, conv);
    const ess::CheckpointFiles cf = ess::loadCheckpointFiles(conv);
    QCOMPARE(cf.configJson, std::string(R"({"model_type": "ess-lm"})"));
    QCOMPARE(cf.tensors.metadata.at("source"), std::string("hf"));
  }
};

QTEST_APPLESS_MAIN(TestIo)
#include "test_io.moc"
