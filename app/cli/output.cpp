#include "output.h"

#include <charconv>
#include <cmath>
#include <iostream>

#include "ess/atomic_file.h"

namespace ess::cli {

std::string formatNumber(double v) {
  if (std::isnan(v)) return "";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

void emit(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    std::cout << text;
    std::cout.flush();
    return;
  }
  writeFileAtomically(path, text);
}

}  // namespace ess::cli
