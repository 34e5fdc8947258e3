#!/usr/bin/env python3
"""Expected Unicode classes and normalizer outputs from Python's own Unicode database
(unicodedata, an implementation independent of ICU), for tests/core/test_tokenizer_unicode.cpp.

Usage: python3 make_unicode_expected.py > unicode_expected.json

- categories: for each code point its General_Category and whether it is \\p{L}, \\p{N}, \\p{M}
  and White_Space (str.isspace() is White_Space plus U+001C..U+001F, which are left out here).
  Only code points assigned since Unicode 14.0 or earlier (this Python's database is
  unicodedata.unidata_version), so ICU's newer database gives the same answers.
- normalized: for each text its NFC, NFD, NFKC and NFKD forms, its Lowercase as the Rust
  `tokenizers` library does it (each character on its own: char::to_lowercase, so no final
  sigma rule), StripAccents as Rust does it (every \\p{M} character removed, nothing
  decomposed), and "bert_like" (NFD, then StripAccents, then Lowercase).
"""
import json
import sys
import unicodedata

CODE_POINTS = [
    # \p{N}: decimal digits of many scripts (Nd), letter numbers (Nl), other numbers (No)
    0x0030, 0x0039, 0x0660, 0x06F4, 0x07C1, 0x0966, 0x09E7, 0x0BE7, 0x0DE6, 0x0DEF, 0x0E51,
    0x0F21, 0x1041, 0x17E1, 0x1B50, 0x1B59, 0x1C51, 0x1E950, 0x1E959, 0xA9D0, 0xA9D9, 0x104A1,
    0x1D7CF, 0xFF11, 0x2167, 0x2177, 0x3007, 0x00B2, 0x00BD, 0x2460, 0x2473, 0x1F101,
    # \p{M}: combining marks, spacing (Mc) and non-spacing (Mn) vowel signs, enclosing (Me)
    0x0301, 0x030A, 0x0323, 0x093F, 0x0940, 0x0947, 0x094D, 0x0902, 0x0E31, 0x0E34, 0x0E35,
    0x0E48, 0x0E49, 0x0BBF, 0x0BCD, 0x0DCA, 0x0DD2, 0x064E, 0x0652, 0x05B8, 0x05C1, 0x1B34,
    0xA9B4, 0x20E3, 0x20DD, 0x0D3E,
    # \p{L}: letters of the same scripts, modifier letters (Lm), titlecase (Lt), CJK (Lo)
    0x0041, 0x007A, 0x00E9, 0x0130, 0x017F, 0x01C5, 0x02B0, 0x03A3, 0x0915, 0x0928, 0x0E01,
    0x0E2D, 0x0E33, 0x0D9A, 0x0BA4, 0x0645, 0x05E9, 0x1B13, 0xA997, 0x1E900, 0x4E2D, 0x3042,
    0xAC00, 0xFF76, 0x1D400,
    # White_Space and near misses (U+FEFF and U+200B are Cf, not space; U+180E is Cf since 6.3)
    0x0009, 0x000A, 0x000D, 0x0020, 0x0085, 0x00A0, 0x1680, 0x2000, 0x200A, 0x2028, 0x2029,
    0x202F, 0x205F, 0x3000, 0xFEFF, 0x200B, 0x180E,
    # other: punctuation, symbols, emoji
    0x0021, 0x0027, 0x00B7, 0x2014, 0x20AC, 0x1F600, 0x00A9,
]

TEXTS = [
    "e\u0301 A\u030a o\u0308 n\u0303",
    "é Å ö ñ",
    "\u212b \u2126 \u212a",
    "\u1100\u1161\u11a8 한국어",
    "\u1e9b\u0323",
    "ﬁ ﬂ ﬀ ﬃ",
    "Ｆｕｌｌｗｉｄｔｈ １２３",
    "ｶﾀｶﾅ ﾊﾟﾝ",
    "x² y³ ½ ⁴ Ⅻ ①",
    "Ünïcödé ÀÉÎÕÜ Crème Brûlée",
    "İstanbul ISTANBUL ǅ",
    "ΟΔΥΣΣΕΥΣ Σ",
    "हिन्दी किताब",
    "ภาษาไทย ที่นี่ ำ",
    "தமிழ் மொழி",
    "مَرْحَبًا",
    "keycap 1\u20e3",
    "Tiếng Việt",
]


def is_mark(c):
    return unicodedata.category(c).startswith("M")


def rust_lower(s):
    return "".join(c.lower() for c in s)


def strip_marks(s):
    return "".join(c for c in s if not is_mark(c))


def main():
    cats = []
    for cp in CODE_POINTS:
        c = chr(cp)
        gc = unicodedata.category(c)
        assert gc != "Cn", hex(cp)
        cats.append({"cp": "%04X" % cp, "gc": gc, "L": gc[0] == "L", "N": gc[0] == "N", "M": gc[0] == "M",
                     "space": c.isspace() and not 0x1C <= cp <= 0x1F})
    norms = []
    for t in TEXTS:
        norms.append({"text": t,
                      "NFC": unicodedata.normalize("NFC", t), "NFD": unicodedata.normalize("NFD", t),
                      "NFKC": unicodedata.normalize("NFKC", t), "NFKD": unicodedata.normalize("NFKD", t),
                      "Lowercase": rust_lower(t), "StripAccents": strip_marks(t),
                      "bert_like": rust_lower(strip_marks(unicodedata.normalize("NFD", t)))})
    line = lambda rows: ",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in rows)
    sys.stdout.write('{"unicode_version": "%s",\n "categories": [\n%s\n ],\n "normalized": [\n%s\n ]}\n'
                     % (unicodedata.unidata_version, line(cats), line(norms)))


main()
