// Parsers of the command-line and GUI spellings of ESS options.
#include "ess/ess_options.h"

#include <sstream>

#include "ess/error.h"

namespace ess {

Normalization parseNormalization(const std::string& s) {
  if (s == "max") return Normalization::Max;
  if (s == "sum") return Normalization::Sum;
  if (s == "none") return Normalization::None;
  throw UsageError("normalization", {": expected max, sum or none, got '" + s + "'"});
}

DType parseDType(const std::string& s) {
  if (s == "float32") return DType::Float32;
  if (s == "float64") return DType::Float64;
  throw UsageError("dtype", {": expected float32 or float64, got '" + s + "'"});
}

Device parseDevice(const std::string& s) {
  if (s == "cpu") return Device::Cpu;
  if (s == "cuda") return Device::Cuda;
  throw UsageError("device", {": expected cpu or cuda, got '" + s + "'"});
}

Algorithm parseAlgorithm(const std::string& s) {
  if (s == "auto") return Algorithm::Auto;
  if (s == "dense") return Algorithm::Dense;
  if (s == "structured") return Algorithm::Structured;
  throw UsageError("algorithm", {": expected auto, dense or structured, got '" + s + "'"});
}

namespace {
int parseSplitPart(const std::string& part, const std::string& whole, int fallback) {
  if (part.empty()) return fallback;
  size_t used = 0;
  int v = 0;
  try {
    v = std::stoi(part, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != part.size()) throw UsageError("splits", {": expected A:B:STEP with integers, got '" + whole + "'"});
  return v;
}
}  // namespace

SplitRange parseSplitRange(const std::string& s) {
  std::vector<std::string> parts;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ':')) parts.push_back(item);
  if (!s.empty() && s.back() == ':') parts.push_back("");
  if (parts.empty() || parts.size() > 3) throw UsageError("splits", {": expected A:B:STEP, got '" + s + "'"});
  SplitRange r;
  r.first = parseSplitPart(parts[0], s, 1);
  r.last = parts.size() > 1 ? parseSplitPart(parts[1], s, 0) : r.first;
  r.step = parts.size() > 2 ? parseSplitPart(parts[2], s, 1) : 1;
  if (r.step <= 0) throw UsageError("splits", {": STEP must be positive in '" + s + "'"});
  return r;
}

std::string toString(Normalization n) {
  switch (n) {
    case Normalization::Max:
      return "max";
    case Normalization::Sum:
      return "sum";
    case Normalization::None:
      return "none";
  }
  return "max";
}

std::string toString(DType d) { return d == DType::Float32 ? "float32" : "float64"; }

std::string toString(Algorithm a) {
  switch (a) {
    case Algorithm::Auto:
      return "auto";
    case Algorithm::Dense:
      return "dense";
    case Algorithm::Structured:
      return "structured";
  }
  return "auto";
}

}  // namespace ess
