#include "ess/view_policy.h"

#include <algorithm>

#include "ess/error.h"

namespace ess {

bool isTiledLayer(const std::string& architecture, int heads, int length, std::size_t memoryBudget) {
  const double denseBytes = double(heads) * double(length) * double(length) * 8.0;
  return denseBytes > double(memoryBudget) || (architecture == "generators" && length > kTiledGeneratorLength);
}

bool isTextInput(const std::string& spec) { return spec.rfind("text:", 0) == 0 || spec.rfind("textfile:", 0) == 0; }

namespace {

int headIndex(const std::string& text, const std::string& spec) {
  size_t used = 0;
  int v = -1;
  try {
    v = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size())
    throw UsageError("head", {": expected all, H or A:B (inclusive), got '" + spec + "'"});
  return v;
}

}  // namespace

std::vector<int> headRange(int first, int last, int count) {
  std::vector<int> heads;
  if (first < 0 || last < first || last >= count) return heads;
  for (int h = first; h <= last; ++h) heads.push_back(h);
  return heads;
}

std::vector<int> parseHeadRange(const std::string& spec, int count, int layer) {
  std::vector<int> out;
  if (spec == "all") {
    for (int i = 0; i < count; ++i) out.push_back(i);
    return out;
  }
  const auto colon = spec.find(':');
  const int first = headIndex(spec.substr(0, colon), spec);
  const int last = colon == std::string::npos ? first : headIndex(spec.substr(colon + 1), spec);
  out = headRange(first, last, count);
  if (out.empty())
    throw UsageError("head", {" " + spec + " is outside 0.." + std::to_string(count - 1) + " (layer " +
                              std::to_string(layer) + ")" + (first > last ? ": A:B needs A <= B" : "")});
  return out;
}

ToleranceCut toleranceCut(const std::vector<double>& sigma, double tolerance, Normalization n) {
  double sum = 0.0, max = 0.0;
  for (double v : sigma) {
    sum += v;
    max = std::max(max, v);
  }
  ToleranceCut cut;
  cut.threshold = tolerance * (n == Normalization::Max ? max : n == Normalization::Sum ? sum : 1.0);
  if (max <= 0.0) return cut;  // all-zero H_s: ESS 0
  for (double v : sigma)
    if (v > cut.threshold) ++cut.count;
  return cut;
}

}  // namespace ess
