// UTF-8 and the Unicode character classes and normalization forms the tokenizers need (internal
// to the core). Classes and normalization come from ICU (libicu), so they follow the Unicode
// Character Database of the ICU build, whatever the host's locale.
#pragma once
#include <string>

namespace ess::text {

/// Decodes the code point at byte `i` (< s.size()) of `s` and its byte length `len`; a byte that
/// does not start a valid UTF-8 sequence (overlong forms and surrogates are invalid) decodes as
/// itself with length 1 and `ok` false.
char32_t decodeAt(const std::string& s, size_t i, size_t& len, bool& ok);
/// The UTF-8 bytes of code point `cp`.
std::string encodeUtf8(char32_t cp);

/// Oniguruma's Unicode \s, which the Rust `tokenizers` library matches its Split patterns with:
/// the White_Space property (U+0009..U+000D, U+0085 and the Zs, Zl, Zp categories).
bool isSpace(char32_t c);
/// \p{N}: General_Category Nd, Nl or No.
bool isNumber(char32_t c);
/// \p{L}: General_Category Lu, Ll, Lt, Lm or Lo (not the combining marks M*).
bool isLetter(char32_t c);
/// \p{M}: General_Category Mn, Mc or Me (what the StripAccents normalizer removes).
bool isMark(char32_t c);
/// Case-insensitive equality of two code points as a regex's (?i:...) compares them: the same
/// simple case folding (so 'S', 's' and U+017F ſ are equal).
bool foldedEqual(char32_t a, char32_t b);

/// The Unicode normalization forms (UAX #15).
enum class NormalForm { NFC, NFD, NFKC, NFKD };
/// `s` in normal form `form`. Valid UTF-8 runs are normalized; bytes that are not valid UTF-8
/// are kept as they are (they split the text into runs normalized apart).
std::string normalize(const std::string& s, NormalForm form);
/// `s` with each code point replaced by its full lowercase mapping on its own (no context, so a
/// final capital sigma becomes σ, U+0130 becomes "i̇"), as Rust's char::to_lowercase does for the
/// `tokenizers` Lowercase normalizer. Invalid bytes are kept.
std::string lowercase(const std::string& s);
/// `s` without the code points of \p{M} (StripAccents). Invalid bytes are kept.
std::string stripMarks(const std::string& s);

/// `s` with every occurrence of `from` (non-empty) replaced by `to`, left to right.
std::string replaceAll(const std::string& s, const std::string& from, const std::string& to);
/// "<0xNN>", the piece SentencePiece's byte fallback uses for byte `b` (0..255).
std::string bytePiece(int b);

}  // namespace ess::text
