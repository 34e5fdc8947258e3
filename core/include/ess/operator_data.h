// A materialized operator T of one layer and sampled tiles of it, as plain data (no LibTorch,
// no Qt), and the operator-file writer. T[h, r, c] = weight of input c on output r.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace ess {

/// A materialized operator T of one layer: row-major values of shape [H, L, L].
struct OperatorData {
  int heads = 0;
  int length = 0;
  std::vector<double> values;
  double at(int h, int r, int c) const { return values[(static_cast<size_t>(h) * length + r) * length + c]; }
};

/// Which part of an operator T[head] a heatmap needs: rows [rowBegin, rowEnd) and columns
/// [columnBegin, columnEnd) (an end of -1 means L), sampled with at most maxRows x maxColumns
/// points. Used for long operators, whose dense [H, L, L] form would not fit in memory.
struct TileRequest {
  int rowBegin = 0, rowEnd = -1;
  int columnBegin = 0, columnEnd = -1;
  int maxRows = 1024, maxColumns = 1024;
};

/// Point samples of T[head] on a regular grid: value (i, j) is T[head, firstRow + i * rowStep,
/// firstColumn + j * columnStep], for i < rows, j < columns, row-major. Steps of 1 give the exact
/// entries (full resolution); larger steps give a reduced-resolution overview.
struct OperatorTile {
  int head = 0;
  int firstRow = 0, firstColumn = 0;
  int rowStep = 1, columnStep = 1;
  int rows = 0, columns = 0;
  std::vector<double> values;
  double at(int i, int j) const { return values[static_cast<size_t>(i) * columns + j]; }
};

/// Writes an operator file (docs/definitions.md section 6): tensor `operator` [H, L, L] float64 (exact),
/// `__metadata__` from `metadata`; written to a temporary file and renamed into place.
/// Throws InputError naming `path` when it cannot be written.
void writeOperatorFile(const std::string& path, const OperatorData& op,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace ess
