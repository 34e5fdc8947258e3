// Sessions on arrays in memory: see ess/array_session.h.
#include "ess/array_session.h"

#include "ess/ess_engine.h"
#include "math/session_base.h"

namespace ess {

std::unique_ptr<Session> openArraySession(const NamedArrays& tensors, const std::string& name, size_t memoryBudget) {
  useSingleThreadedBlas();  // as Session::open does for files
  return openOperatorSession(name, tensors, memoryBudget);
}

GeneratorArrays layerGenerators(Session& session, int layer) {
  // Every session the core makes derives from SessionBase (operator files, models).
  if (auto* base = dynamic_cast<SessionBase*>(&session)) return base->generators(layer);
  return {};
}

}  // namespace ess
