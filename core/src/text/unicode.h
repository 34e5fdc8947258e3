// UTF-8 and the Unicode character classes the tokenizers need (internal to the core).
#pragma once
#include <string>

namespace ess::text {

/// Decodes the code point at byte `i` of `s` and its byte length `len`; an invalid byte decodes
/// as itself with length 1 and `ok` false.
char32_t decodeAt(const std::string& s, size_t i, size_t& len, bool& ok);
/// The UTF-8 bytes of code point `cp`.
std::string encodeUtf8(char32_t cp);

/// JavaScript / Oniguruma \s.
bool isSpace(char32_t c);
/// \p{N}: decimal digits (Nd) of the common scripts, letter numbers (Nl) and other numbers (No)
/// of the common blocks.
bool isNumber(char32_t c);
/// \p{L}: glibc's Unicode alphabetic class (C.UTF-8) less numbers and combining marks.
bool isLetter(char32_t c);

/// `s` with every occurrence of `from` (non-empty) replaced by `to`, left to right.
std::string replaceAll(const std::string& s, const std::string& from, const std::string& to);
/// "<0xNN>", the piece SentencePiece's byte fallback uses for byte `b` (0..255).
std::string bytePiece(int b);

}  // namespace ess::text
