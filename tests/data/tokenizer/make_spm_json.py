#!/usr/bin/python3
# Converts spm_tiny/tokenizer.model (SentencePiece BPE, byte fallback) into the two
# tokenizer.json layouts Hugging Face `tokenizers` writes for Llama-2 / Mistral-family models,
# and records the ids libsentencepiece itself gives for a corpus of tricky strings, for
# test_tokenizer.cpp (sentencePieceJsonMatchesLibsentencepiece). Not part of the build.
#
# Run (from tests/data/tokenizer/, Debian's python3-sentencepiece 0.1.97):
#   apt-get install -y python3-sentencepiece
#   /usr/bin/python3 make_spm_json.py
# Writes:
#   spm_tiny_json/tokenizer.model      spm_tiny with normalizer_spec.remove_extra_whitespaces
#                                      false, as Llama-2's model has it (spm_tiny was trained
#                                      with the default true, which collapses runs of spaces;
#                                      the HF converter ignores that field, so the comparison
#                                      needs a model that keeps spaces). Pieces, scores and
#                                      types are spm_tiny's, unchanged.
#   spm_tiny_json/legacy/tokenizer.json   normalizer Sequence[Prepend("▁"), Replace(" ", "▁")],
#                                      pre_tokenizer null, decoder Sequence[Replace, ByteFallback,
#                                      Fuse, Strip]; merges as "a b" strings.
#   spm_tiny_json/metaspace/tokenizer.json  normalizer null, pre_tokenizer and decoder
#                                      Metaspace (prepend_scheme "first", split false); merges
#                                      as ["a", "b"] pairs.
#   spm_tiny_json/reference.json       [{"text", "ids"}]: libsentencepiece's ids (no BOS/EOS).
# Merges are derived from the vocabulary as the Hugging Face SentencePiece converter does: for
# every piece, each split into two strings that are both pieces is a merge; merges are sorted
# by the merged piece's score (highest first), ties by the ids of the two halves.
import json
import os

import sentencepiece as spm

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "spm_tiny", "tokenizer.model")
OUT = os.path.join(HERE, "spm_tiny_json")

# Corpus: whitespace of every kind, digits, punctuation, capitals, accented letters, emoji and
# CJK (absent from the 320 pieces: byte fallback), the empty string, only spaces.
TEXTS = [
    "the cat sat on the mat",
    "dogs ran\nhome",
    " the cat",
    "  leading two",
    "trailing one ",
    "trailing two  ",
    "multiple   spaces  inside",
    "   ",
    " ",
    "",
    "\n",
    "line one\nline two\n\nafter blank",
    "tab\there\t\tand two",
    "crlf\r\nend",
    "digits 0123456789 and 42",
    "The Cat, the Dog; and: birds!",
    "h\u00e9llo caf\u00e9 na\u00efve \u00e0 la fa\u00e7ade",
    "emoji \U0001F600 and \U0001F469\u200d\U0001F4bb",
    "CJK \u4e2d\u6587 \u65e5\u672c\u8a9e text",
    "mixed\u00a0nbsp and \u2581 lower block",
    "birds sang in trees at dawn every day",
    "awayfromhome",
    "a",
    "\u00e9",
    " \u00e9 ",
    "x" * 40,
]


def read_varint(b, i):
    shift = result = 0
    while True:
        c = b[i]
        i += 1
        result |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return result, i


def write_varint(n):
    out = bytearray()
    while True:
        c = n & 0x7F
        n >>= 7
        if n:
            out.append(c | 0x80)
        else:
            out.append(c)
            return bytes(out)


def keep_spaces(model):
    """The serialized ModelProto with normalizer_spec (field 3) field 4
    remove_extra_whitespaces set to false (appended; protobuf keeps the last value)."""
    out = bytearray()
    i = 0
    while i < len(model):
        start = i
        key, i = read_varint(model, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, i = read_varint(model, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            n, j = read_varint(model, i)
            i = j + n
            if field == 3:
                body = model[j:i] + bytes([4 << 3 | 0, 0])
                out += write_varint(key) + write_varint(len(body)) + body
                continue
        else:
            raise SystemExit("unexpected wire type %d" % wire)
        out += model[start:i]
    return bytes(out)


def main():
    src = open(SRC, "rb").read()
    model = keep_spaces(src)
    sp = spm.SentencePieceProcessor(model_proto=model)
    orig = spm.SentencePieceProcessor(model_file=SRC)
    assert sp.get_piece_size() == orig.get_piece_size() == 320
    # The edit changed only whitespace handling.
    assert sp.encode("the cat sat on the mat") == orig.encode("the cat sat on the mat")
    assert sp.encode("a  b") != orig.encode("a  b")

    n = sp.get_piece_size()
    pieces = [sp.id_to_piece(i) for i in range(n)]
    vocab = {p: i for i, p in enumerate(pieces)}
    merges = []
    for i, p in enumerate(pieces):
        for k in range(1, len(p)):
            left, right = p[:k], p[k:]
            if left in vocab and right in vocab:
                merges.append((-sp.get_score(i), vocab[left], vocab[right], left, right))
    merges.sort()
    pairs = [[m[3], m[4]] for m in merges]

    added = []
    for i in range(n):
        if sp.is_control(i) or sp.is_unknown(i):
            added.append({"id": i, "content": pieces[i], "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True})
    bos, eos, unk = sp.bos_id(), sp.eos_id(), sp.unk_id()
    post = {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": pieces[bos], "type_id": 0}},
                   {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": pieces[bos], "type_id": 0}},
                 {"Sequence": {"id": "A", "type_id": 0}},
                 {"SpecialToken": {"id": pieces[bos], "type_id": 1}},
                 {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {pieces[bos]: {"id": pieces[bos], "ids": [bos], "tokens": [pieces[bos]]}},
    }

    def bpe(merge_list):
        return {"type": "BPE", "dropout": None, "unk_token": pieces[unk], "continuing_subword_prefix": None,
                "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                "vocab": vocab, "merges": merge_list}

    legacy = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
        "pre_tokenizer": None,
        "post_processor": post,
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": bpe([a + " " + b for a, b in pairs]),
    }
    metaspace = dict(legacy)
    metaspace["normalizer"] = None
    metaspace["pre_tokenizer"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first",
                                  "split": False}
    metaspace["decoder"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first",
                            "split": False}
    metaspace["model"] = bpe(pairs)

    os.makedirs(os.path.join(OUT, "legacy"), exist_ok=True)
    os.makedirs(os.path.join(OUT, "metaspace"), exist_ok=True)
    open(os.path.join(OUT, "tokenizer.model"), "wb").write(model)
    for name, doc in (("legacy", legacy), ("metaspace", metaspace)):
        with open(os.path.join(OUT, name, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, indent=1)
            f.write("\n")
    refs = [{"text": t, "ids": sp.encode(t)} for t in TEXTS]
    with open(os.path.join(OUT, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(refs, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(len(pairs), "merges;", len(refs), "reference texts; bos", bos, "eos", eos, "unk", unk)


if __name__ == "__main__":
    main()
