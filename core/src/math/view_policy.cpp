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

std::string checkpointName(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

std::string layoutMismatch(const SourceInfo& a, int lengthA, const std::string& nameA, const SourceInfo& b, int lengthB,
                           const std::string& nameB) {
  const std::string both = "cannot compare A (" + nameA + ") with B (" + nameB + "): ";
  if (a.layers.size() != b.layers.size())
    return both + "A has " + std::to_string(a.layers.size()) + " layer(s), B has " + std::to_string(b.layers.size());
  for (size_t l = 0; l < a.layers.size(); ++l)
    if (a.layers[l].heads != b.layers[l].heads)
      return both + "layer " + std::to_string(l) + " has " + std::to_string(a.layers[l].heads) + " head(s) in A, " +
             std::to_string(b.layers[l].heads) + " in B";
  if (lengthA != lengthB)
    return both + "the input gives L = " + std::to_string(lengthA) + " in A, L = " + std::to_string(lengthB) + " in B";
  return std::string();
}

}  // namespace ess
