// Generators on LibTorch tensors (ess/generators.h): the array functions of
// ess/generator_form.h with zero-copy conversions.
#include "ess/generators.h"

namespace ess {

GeneratorArrays toArrays(const Generators& g) { return {toArray(g.C), toArray(g.B), toArray(g.logA), toArray(g.D)}; }

SharedGeneratorArrays toArrays(const SharedGenerators& g) {
  return {toArray(g.Cshared), toArray(g.Bshared), toArray(g.cScale), toArray(g.bScale),
          toArray(g.step),    toArray(g.rate),    toArray(g.D)};
}

Generators toGenerators(const GeneratorArrays& g) {
  return {toTensor(g.C), toTensor(g.B), toTensor(g.logA), toTensor(g.D)};
}

bool isGeneratorFile(const NamedTensors& t) { return t.find("C") && t.find("B") && t.find("log_a"); }

Generators readGenerators(const NamedTensors& t, const std::string& path) {
  return toGenerators(readGenerators(toArrays(t), path));
}

at::Tensor materializeGenerators(const NamedTensors& t, const std::string& path) {
  return materializeGenerators(readGenerators(t, path), path);
}

at::Tensor materializeGenerators(const Generators& g, const std::string& path) {
  return toTensor(materializeGenerators(toArrays(g), path));
}

}  // namespace ess
