# Writes tests/data/hf/llama_spm_torch/: a tiny Llama checkpoint (LlamaForCausalLM names,
# "model." prefix, GQA 4 query / 2 KV heads, float16) whose tokenizer is SentencePiece's
# tokenizer.model (a copy of tests/data/tokenizer/spm_tiny, 320 pieces, BPE with byte fallback)
# with tokenizer_config.json asking for BOS, as Llama-2 checkpoints ship. The weights are made by
# PyTorch and stored as model.safetensors, written here from the format's published layout
# (8-byte little-endian header length, JSON header, raw little-endian data) so the file does not
# come from the project's own writer. Used by the CLI and GUI tests of text input through
# libsentencepiece. Run: /usr/bin/python3 tests/data/hf/make_llama_spm.py (repository root).
import json
import os
import shutil
import struct

import torch

from make_fixtures import llama_state

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "llama_spm_torch")


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.contiguous().view(torch.uint8).numpy().tobytes() if t.dtype != torch.uint8 else t.numpy().tobytes()
        header[name] = {"dtype": {torch.float16: "F16", torch.float32: "F32"}[t.dtype],
                        "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def main():
    V, D, H, KV, hd, I, Lyr = 320, 16, 4, 2, 4, 32, 2
    sd, _ = llama_state(3, V, D, H, KV, hd, I, Lyr, biases=False)
    sd = {k: v.to(torch.float16) for k, v in sd.items()}
    os.makedirs(OUT, exist_ok=True)
    cfg = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": V, "hidden_size": D,
           "num_attention_heads": H, "num_key_value_heads": KV, "num_hidden_layers": Lyr,
           "intermediate_size": I, "max_position_embeddings": 64, "rms_norm_eps": 1e-5,
           "rope_theta": 10000.0, "tie_word_embeddings": True, "hidden_act": "silu",
           "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float16"}
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    write_safetensors(os.path.join(OUT, "model.safetensors"), sd)
    shutil.copy(os.path.join(HERE, "..", "tokenizer", "spm_tiny", "tokenizer.model"), os.path.join(OUT, "tokenizer.model"))
    with open(os.path.join(OUT, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "LlamaTokenizer", "add_bos_token": True, "add_eos_token": False,
                   "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}, f, indent=2)


if __name__ == "__main__":
    main()
