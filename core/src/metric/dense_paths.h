// Internal to the core and its tests: how many blocks the dense engine's Gram path resolved by
// refining their small singular values (ess_engine.cpp), so that a test can tell that the
// refinement it compares with the plain SVD actually ran. Not part of the public API.
#pragma once

namespace ess::detail {

/// Blocks H_s certified through the refinement of their small singular values since the
/// process started (all threads, all calls of computeEss).
long denseRefinedBlocks();

}  // namespace ess::detail
