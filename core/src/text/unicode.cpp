// UTF-8 decoding and encoding, the Unicode classes of the pre-tokenizer patterns, and
// visibleText (ess/tokenizer.h).
#include "text/unicode.h"

#include <locale.h>
#include <clocale>
#include <cwctype>

#include "ess/tokenizer.h"

namespace ess::text {

namespace {

locale_t utf8Locale() {
  static locale_t loc = [] {
    locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
    if (!l) l = newlocale(LC_CTYPE_MASK, "C.utf8", static_cast<locale_t>(0));
    return l;
  }();
  return loc;
}

}  // namespace

char32_t decodeAt(const std::string& s, size_t i, size_t& len, bool& ok) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  ok = true;
  len = 1;
  if (c < 0x80) return c;
  size_t n = 0;
  char32_t cp = 0;
  if ((c & 0xE0) == 0xC0)
    n = 2, cp = c & 0x1F;
  else if ((c & 0xF0) == 0xE0)
    n = 3, cp = c & 0x0F;
  else if ((c & 0xF8) == 0xF0)
    n = 4, cp = c & 0x07;
  else {
    ok = false;
    return c;
  }
  if (i + n > s.size()) {
    ok = false;
    return c;
  }
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) {
      ok = false;
      return c;
    }
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  len = n;
  return cp;
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

bool isSpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000 ||
         c == 0xFEFF;
}

bool isNumber(char32_t c) {
  static const std::pair<char32_t, char32_t> ranges[] = {
      {0x30, 0x39},     {0xB2, 0xB3},       {0xB9, 0xB9},      {0xBC, 0xBE},     {0x660, 0x669},   {0x6F0, 0x6F9},
      {0x7C0, 0x7C9},   {0x966, 0x96F},     {0x9E6, 0x9EF},    {0x9F4, 0x9F9},   {0xA66, 0xA6F},   {0xAE6, 0xAEF},
      {0xB66, 0xB6F},   {0xBE6, 0xBF2},     {0xC66, 0xC6F},    {0xCE6, 0xCEF},   {0xD66, 0xD78},   {0xE50, 0xE59},
      {0xED0, 0xED9},   {0xF20, 0xF33},     {0x1040, 0x1049},  {0x1369, 0x137C}, {0x16EE, 0x16F0}, {0x17E0, 0x17E9},
      {0x1810, 0x1819}, {0x2070, 0x2070},   {0x2074, 0x2079},  {0x2080, 0x2089}, {0x2150, 0x2182}, {0x2185, 0x2189},
      {0x2460, 0x249B}, {0x24EA, 0x24FF},   {0x2776, 0x2793},  {0x3007, 0x3007}, {0x3021, 0x3029}, {0x3038, 0x303A},
      {0x3192, 0x3195}, {0x3220, 0x3229},   {0x3248, 0x324F},  {0x3251, 0x325F}, {0x3280, 0x3289}, {0x32B1, 0x32BF},
      {0xFF10, 0xFF19}, {0x1D7CE, 0x1D7FF}, {0x1F100, 0x1F10C}};
  for (const auto& r : ranges)
    if (c >= r.first && c <= r.second) return true;
  return false;
}

bool isLetter(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  if (isNumber(c)) return false;
  if ((c >= 0x300 && c <= 0x36F) || (c >= 0x1AB0 && c <= 0x1AFF) || (c >= 0x1DC0 && c <= 0x1DFF) ||
      (c >= 0x20D0 && c <= 0x20FF) || (c >= 0xFE20 && c <= 0xFE2F))
    return false;
  locale_t loc = utf8Locale();
  return loc && iswalpha_l(static_cast<wint_t>(c), loc);
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
