// UTF-8 decoding and encoding, the Unicode classes of the pre-tokenizer patterns and the
// normalizers from ICU, and visibleText (ess/tokenizer.h).
#include "text/unicode.h"

#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "ess/tokenizer.h"

namespace ess::text {

namespace {

/// Calls `run(begin, end)` for each maximal run of valid UTF-8 in `s` and `byte(b)` for each
/// byte outside such runs, in order.
template <class Run, class Byte>
void forEachValidRun(const std::string& s, Run run, Byte byte) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const int32_t n = static_cast<int32_t>(s.size());
  int32_t i = 0, start = 0;
  while (i < n) {
    const int32_t at = i;
    UChar32 c;
    U8_NEXT(p, i, n, c);
    if (c < 0) {
      if (at > start) run(start, at);
      for (int32_t k = at; k < i; ++k) byte(s[k]);
      start = i;
    }
  }
  if (n > start) run(start, n);
}

/// Applies `f` (UTF-8 in, UTF-8 out) to the valid runs of `s`, keeping invalid bytes.
template <class F>
std::string mapValidRuns(const std::string& s, F f) {
  // ICU indexes with int32_t; text inputs stop at 16 MiB (kMaxTextFileBytes) long before.
  if (s.size() > size_t(INT32_MAX)) throw std::length_error("text over 2 GiB for Unicode normalization");
  std::string out;
  out.reserve(s.size());
  forEachValidRun(
      s, [&](int32_t a, int32_t b) { out += f(icu::StringPiece(s.data() + a, b - a)); }, [&](char b) { out += b; });
  return out;
}

const icu::Normalizer2& normalizerOf(NormalForm form) {
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* n = nullptr;
  switch (form) {
    case NormalForm::NFC:
      n = icu::Normalizer2::getNFCInstance(err);
      break;
    case NormalForm::NFD:
      n = icu::Normalizer2::getNFDInstance(err);
      break;
    case NormalForm::NFKC:
      n = icu::Normalizer2::getNFKCInstance(err);
      break;
    case NormalForm::NFKD:
      n = icu::Normalizer2::getNFKDInstance(err);
      break;
  }
  // Only when ICU's data library is missing or broken: an installation fault, not bad input.
  if (U_FAILURE(err) || !n)
    throw std::runtime_error(std::string("ICU normalizer data unavailable: ") + u_errorName(err));
  return *n;
}

}  // namespace

char32_t decodeAt(const std::string& s, size_t i, size_t& len, bool& ok) {
  // ICU's strict decoder: overlong forms, surrogates and values past U+10FFFF are not characters.
  const auto n = static_cast<int32_t>(std::min<size_t>(s.size() - i, 4));
  int32_t k = 0;
  UChar32 c;
  U8_NEXT(reinterpret_cast<const uint8_t*>(s.data() + i), k, n, c);
  ok = c >= 0;
  len = ok ? static_cast<size_t>(k) : 1;
  return ok ? static_cast<char32_t>(c) : static_cast<unsigned char>(s[i]);
}

std::string encodeUtf8(char32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

bool isSpace(char32_t c) { return u_isUWhiteSpace(static_cast<UChar32>(c)); }
bool isNumber(char32_t c) { return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_N_MASK) != 0; }
bool isLetter(char32_t c) { return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_L_MASK) != 0; }
bool isMark(char32_t c) { return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_M_MASK) != 0; }

bool foldedEqual(char32_t a, char32_t b) {
  return u_foldCase(static_cast<UChar32>(a), U_FOLD_CASE_DEFAULT) ==
         u_foldCase(static_cast<UChar32>(b), U_FOLD_CASE_DEFAULT);
}

std::string normalize(const std::string& s, NormalForm form) {
  const icu::Normalizer2& n = normalizerOf(form);
  return mapValidRuns(s, [&](icu::StringPiece run) {
    UErrorCode err = U_ZERO_ERROR;
    const icu::UnicodeString out = n.normalize(icu::UnicodeString::fromUTF8(run), err);
    if (U_FAILURE(err)) throw std::runtime_error(std::string("ICU normalization failed: ") + u_errorName(err));
    std::string utf8;
    return out.toUTF8String(utf8);
  });
}

std::string lowercase(const std::string& s) {
  return mapValidRuns(s, [](icu::StringPiece run) {
    std::string out;
    const auto* p = reinterpret_cast<const uint8_t*>(run.data());
    const int32_t n = run.length();
    for (int32_t i = 0; i < n;) {
      UChar32 c;
      U8_NEXT_UNSAFE(p, i, c);
      if (c < 0x80) {
        out += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
        continue;
      }
      // One code point alone: no context, so no final-sigma or other conditional mapping.
      icu::UnicodeString one(c);
      one.toLower(icu::Locale::getRoot());
      one.toUTF8String(out);
    }
    return out;
  });
}

std::string stripMarks(const std::string& s) {
  return mapValidRuns(s, [](icu::StringPiece run) {
    std::string out;
    const auto* p = reinterpret_cast<const uint8_t*>(run.data());
    const int32_t n = run.length();
    for (int32_t i = 0; i < n;) {
      const int32_t at = i;
      UChar32 c;
      U8_NEXT_UNSAFE(p, i, c);
      if (!isMark(static_cast<char32_t>(c))) out.append(run.data() + at, static_cast<size_t>(i - at));
    }
    return out;
  });
}

std::string replaceAll(const std::string& s, const std::string& from, const std::string& to) {
  std::string out;
  size_t i = 0;
  for (size_t k; (k = s.find(from, i)) != std::string::npos; i = k + from.size()) out += s.substr(i, k - i) + to;
  return out + s.substr(i);
}

std::string bytePiece(int b) {
  static const char* hex = "0123456789ABCDEF";
  return std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">";
}

}  // namespace ess::text

namespace ess {

std::string visibleText(const std::string& bytes) {
  std::string out;
  static const char* hex = "0123456789ABCDEF";
  for (size_t i = 0; i < bytes.size();) {
    size_t len;
    bool ok;
    const char32_t c = text::decodeAt(bytes, i, len, ok);
    if (!ok || (c < 0x20 && c != '\n' && c != '\t' && c != '\r') || (c >= 0x7F && c < 0xA0)) {
      // Invalid UTF-8, and control characters (no glyph: fonts draw a box) as their bytes.
      for (size_t k = 0; k < len; ++k) {
        const unsigned char b = static_cast<unsigned char>(bytes[i + k]);
        out += std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">";
      }
    } else if (c == ' ') {
      out += "\xC2\xB7";  // ·
    } else if (c == '\n') {
      out += "\xE2\x8F\x8E";  // ⏎
    } else if (c == '\t') {
      out += "\xE2\x86\x92";  // →
    } else if (c == '\r') {
      out += "\xE2\x86\xB5";  // ↵
    } else {
      out += bytes.substr(i, len);
    }
    i += len;
  }
  return out;
}

}  // namespace ess
