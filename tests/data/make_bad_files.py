#!/usr/bin/env python3
"""Writes (into tests/data/bad/) the malformed files that tests/cli/test_cli_robust.cpp checks the
messages of (issue 12). Standard library only: cd tests/data/bad && python3 ../make_bad_files.py."""
import json
import struct
import zipfile


def safetensors(path, header_bytes, data=b""):
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)) + header_bytes + data)


# The same tensor name twice in the header (JSON keeps the last; the reader must refuse).
h = ('{"operator":{"dtype":"F64","shape":[2,2],"data_offsets":[0,32]},'
     '"operator":{"dtype":"F64","shape":[2,2],"data_offsets":[32,64]}}').encode()
safetensors("duplicate_tensor_name.safetensors", h, struct.pack("<8d", *range(8)))

# Valid JSON that is not an object, with a header length whose first byte is 0x80 (128 bytes):
# neither a legacy PyTorch file nor a safetensors file.
arr = b"[1, 2, 3]"
safetensors("header_json_array_len_0x80.safetensors", arr + b" " * (128 - len(arr)))

# Both an operator and generators: ambiguous.
L, N = 4, 1
tensors = {"operator": ("F64", [L, L]), "C": ("F64", [1, L, N]), "B": ("F64", [1, L, N]),
           "log_a": ("F64", [1, L, N])}
header, data, off = {}, b"", 0
for name, (dt, shape) in tensors.items():
    n = 1
    for s in shape:
        n *= s
    header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + 8 * n]}
    vals = [-0.1] * n if name == "log_a" else [0.5] * n
    data += struct.pack("<%dd" % n, *vals)
    off += 8 * n
safetensors("operator_and_generators.safetensors", json.dumps(header).encode(), data)

# Generators with a state size N of 0.
header = {k: {"dtype": "F64", "shape": [1, 8, 0], "data_offsets": [0, 0]} for k in ("C", "B", "log_a")}
safetensors("generators_n0.safetensors", json.dumps(header).encode())


def torch_zip(path, pickle_bytes, claim=None):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle_bytes)
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/version", "3\n")
    if claim is not None:  # patch data.pkl's uncompressed size in both headers
        b = bytearray(open(path, "rb").read())
        name = b"archive/data.pkl"
        local = b.find(b"PK\x03\x04")
        struct.pack_into("<I", b, local + 22, claim)
        central = b.find(b"PK\x01\x02")
        assert b[central + 46:central + 46 + len(name)] == name
        struct.pack_into("<I", b, central + 24, claim)
        open(path, "wb").write(bytes(b))


# A complex tensor's storage class: refused as unsupported, not as "may contain code".
torch_zip("complex_tensor.pt", b"\x80\x02ctorch\nComplexFloatStorage\nq\x00.")
# A sparse tensor's rebuild function.
torch_zip("sparse_tensor.pt", b"\x80\x02ctorch._utils\n_rebuild_sparse_tensor\nq\x00.")
# A small archive whose data.pkl claims 4 GiB - 2 bytes.
torch_zip("zip_entry_claims_4gib.pt", b"\x80\x02}q\x00.", claim=0xFFFFFFFE)
