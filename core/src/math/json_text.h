// Internal: nlohmann_json's exception text in the program's words, for messages that name a
// file (README "Bad input": no library words reach the user).
#pragma once
#include <exception>
#include <string>

namespace ess {

/// What `e` (a nlohmann::json parse, type or range error, or any other exception) says, without
/// the library's tag: "[json.exception.parse_error.101] parse error at line 1, column 9: syntax
/// error ..." becomes "line 1, column 9: syntax error ...", "[json.exception.type_error.302]
/// type must be string, but is number" becomes "type must be string, but is number".
inline std::string jsonProblem(const std::exception& e) {
  std::string s = e.what();
  if (s.rfind("[json.exception.", 0) == 0) {
    const size_t end = s.find("] ");
    if (end != std::string::npos) s.erase(0, end + 2);
  }
  for (const char* lead : {"parse error at ", "parse error: "})
    if (s.rfind(lead, 0) == 0) s.erase(0, std::string(lead).size());
  return s;
}

}  // namespace ess
