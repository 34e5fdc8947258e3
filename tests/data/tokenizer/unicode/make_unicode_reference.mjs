// Reference pre-tokenizer pieces and token ids for non-Latin scripts and Unicode normalizers, from an independent
// implementation of tokenizer.json: the npm package @huggingface/tokenizers (Tokenizers.js,
// plain JavaScript; classes and normalization from the JavaScript engine's own Unicode data).
// Usage: in a scratch folder `npm install @huggingface/tokenizers@0.2.0`, then
//   node make_unicode_reference.mjs REPO/tests/data/tokenizer > unicode_reference.json
// Each byte-level variant is GPT-2's vocabulary (gpt2_tokenizer.json) with another
// pre_tokenizer and normalizer; the spm_* variants are the converted SentencePiece files
// (spm_tiny_json, 320 pieces with byte fallback) with NFKC put first in their normalizer. The
// test (tests/core/test_tokenizer_unicode.cpp) builds the same variants.
// Where Tokenizers.js knowingly differs from the Rust `tokenizers` library (its StripAccents
// decomposes and removes only Mn, the Rust one removes all of \p{M}; its Lowercase maps a final
// sigma to ς, Rust's char-by-char one to σ) a text is left out of that variant here; those
// cases are checked against Python's unicodedata in unicode_expected.json instead.
import fs from 'fs';
import { Tokenizer } from '@huggingface/tokenizers';

const dir = process.argv[2] || '..';
const read = (name) => JSON.parse(fs.readFileSync(`${dir}/${name}`, 'utf-8'));
const base = read('gpt2_tokenizer.json');
const spmMetaspace = read('spm_tiny_json/metaspace/tokenizer.json');
const spmLegacy = read('spm_tiny_json/legacy/tokenizer.json');
const nfkcFirst = (norm) => ({ type: 'Sequence', normalizers: [{ type: 'NFKC' }].concat(norm ? [norm] : []) });
const llama3 =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const qwen2 =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const split = (pattern) => ({
  type: 'Sequence',
  pretokenizers: [
    { type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false },
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
  ],
});
const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
// name: [pre_tokenizer, normalizer]; the test builds the same table.
const variants = {
  gpt2: [byteLevel, null],
  llama3: [split(llama3), null],
  qwen2: [split(qwen2), { type: 'NFC' }],
  nfd: [byteLevel, { type: 'NFD' }],
  nfkc: [byteLevel, { type: 'NFKC' }],
  nfkd: [byteLevel, { type: 'NFKD' }],
  bert_like: [byteLevel, { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'StripAccents' }, { type: 'Lowercase' }] }],
};

const corpus = [
  'Balinese ᭐᭑᭒᭓᭔᭕᭖᭗᭘᭙ year ᭒᭐᭒᭖',
  'Adlam 𞥐𞥑𞥒𞥓𞥔𞥕𞥖𞥗𞥘𞥙',
  'Javanese ꧐꧑꧒꧓꧔꧕꧖꧗꧘꧙ ꦗꦮ',
  'Sinhala ෦෧෨෩෪෫෬෭෮෯ සිංහල',
  'mixed abc᭑᭒def x꧑y 𞥑z',
  'Tibetan ༡༢༣ Khmer ១២៣ Myanmar ၁၂၃ Ol Chiki ᱑᱒᱓ NKo ߁߂߃ Osmanya 𐒡𐒢',
  'Math 𝟏𝟐𝟑 ① ② ⑳ Ⅻ ⅷ',
  'हिन्दी किताब १२३४५',
  'नमस्ते दुनिया',
  'ภาษาไทย ที่นี่ ๑๒๓',
  'กินข้าวหรือยัง',
  'தமிழ் மொழி ௧௨௩',
  'മലയാളം ബംഗാളി বাংলা ভাষা ০১২৩',
  'مَرْحَبًا بِالعَالَم ٠١٢٣٤ ۴۵۶',
  'שָׁלוֹם עוֹלָם',
  'keycap 1\u20e3 2\u20e3',
  'decomposed e\u0301 A\u030a o\u0308 n\u0303',
  'precomposed é Å ö ñ',
  'Angstrom \u212b Ohm \u2126 Kelvin \u212a',
  'Hangul jamo \u1100\u1161\u11a8 한국어',
  '\u1e9b\u0323 q\u0307\u0323',
  'ligatures ﬁ ﬂ ﬀ ﬃ',
  'fullwidth Ｆｕｌｌｗｉｄｔｈ １２３ ！',
  'halfwidth ｶﾀｶﾅ ﾊﾟﾝ',
  'x² y³ ½ ¼ ⁴',
  'Ünïcödé ÀÉÎÕÜ Crème Brûlée',
  'İstanbul ISTANBUL ǅ ǈ',
  'Ελληνικά ΟΔΥΣΣΕΥΣ',
  'Vietnamese Tiếng Việt cụ thể',
  'don\'T We\'Re I\'LL',
];

// Lowercase and StripAccents as the Rust library defines them would change these texts in ways
// Tokenizers.js does not (final sigma; Mc and Me marks after NFD).
const rustOnly = (text) => /Σ(?![\p{L}\p{M}])/u.test(text) || /[\p{Mc}\p{Me}]/u.test(text.normalize('NFD'));

// GPT-2's bytes_to_unicode, inverted: the pre-tokenizer's pieces back to UTF-8 text.
const unicodeToByte = new Map();
for (let b = 0, n = 0; b < 256; ++b) {
  const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  unicodeToByte.set(String.fromCodePoint(printable ? b : 256 + n++), b);
}
const unmap = (piece) => Buffer.from([...piece].map((c) => unicodeToByte.get(c))).toString('utf-8');

const out = [];
for (const [name, [pre, norm]] of Object.entries(variants)) {
  const json = { post_processor: null, ...base, pre_tokenizer: pre, normalizer: norm };
  const tok = new Tokenizer(json, {});
  for (const text of corpus) {
    if (name === 'bert_like' && rustOnly(text)) continue;
    const ids = tok.encode(text, { add_special_tokens: false }).ids;
    const pieces = tok.pre_tokenizer(tok.normalizer ? tok.normalizer(text) : text).map(unmap);
    out.push({ variant: name, text, pieces, ids });
  }
}
// SentencePiece-style: ids only (their pieces hold ▁ for spaces).
for (const [name, file] of Object.entries({ spm_metaspace: spmMetaspace, spm_legacy: spmLegacy })) {
  const tok = new Tokenizer({ ...file, normalizer: nfkcFirst(file.normalizer) }, {});
  for (const text of corpus) out.push({ variant: name, text, ids: tok.encode(text, { add_special_tokens: false }).ids });
}
process.stdout.write('[\n' + out.map((r) => ' ' + JSON.stringify(r)).join(',\n') + '\n]\n');
