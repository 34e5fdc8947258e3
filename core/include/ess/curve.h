// ESS curves: the one curve type of the engines (ess/ess_engine.h), the sessions
// (ess/session.h) and the aggregates (ess/aggregate.h). Plain data (no LibTorch, no Qt).
#pragma once
#include <vector>

namespace ess {

/// ESS curves of the H head operators of one layer: for each head h and each evaluated split
/// splits[i], tolerance[h][i] (counts, integers stored as double), entropy[h][i] (effective rank
/// exp(H(p)), 0 for H_s = 0) and tss[h][i] (theoretical state size in SISO units, NaN where
/// unknown). The engines fill splits, tolerance, entropy and length and leave tss empty and
/// layer 0; sessions set the layer and the TSS.
struct EssCurve {
  int layer = 0;
  int length = 0;  ///< sequence length L of the operator
  std::vector<int> splits;
  std::vector<std::vector<double>> tolerance;  ///< [H][S]
  std::vector<std::vector<double>> entropy;    ///< [H][S]
  std::vector<std::vector<double>> tss;        ///< [H][S] or empty
};

/// The former name of EssCurve in the GUI and CLI (same type).
using CurveData = EssCurve;

}  // namespace ess
