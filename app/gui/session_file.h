// Session files of ESS Explorer: what File > Save Session writes and Open Session (or
// `ess-explorer session.json`) restores, as a small versioned JSON object
// (docs/definitions.md section 6, "Session files"):
//   {"format": "ess-explorer-session", "version": 1, "checkpoint": "model",
//    "input": "mqar:seed=3,len=32,pairs=4",
//    "options": {"tolerance": 0.001, "normalization": "max", "dtype": "float64"},
//    "operator": "ssm",
//    "selection": {"kind": "head", "layer": 1, "first": 1, "last": 1}, "split": 12,
//    "tab": "position",
//    "view": {"log_scale": false, "colormap": "auto", "range": "auto", "mask_upper": false,
//             "all_heads": false, "position_all_layers": false, "marks": "\\n, ., <eos>"},
//    "zoom": {"heatmap": {"x": [lo, hi], "y": [lo, hi]}, "ess_curve": {"x": [lo, hi]},
//             "spectrum": {"x": [lo, hi], "y": [lo, hi]}, "position": {"x": [lo, hi]}},
//    "compare": {"a": "run/step-10", "difference": false}}
// `compare` (optional): the checkpoint pinned as A (Compare A/B, comparison.h) and whether the
// heatmap shows T_B - T_A; without it the restored window compares nothing.
// `operator` (optional, "block" or "ssm", as `--operator`): View > SSM-only Operators; without it
// (sessions saved before it was stored) the block's operators.
// The Layers view has no zoom (it always shows every layer), so it stores none.
// Paths (the checkpoint, a textfile: input, compare.a) are written relative to the session file's
// folder when they lie below it, so a folder holding both can be moved; others absolute.
// Plain data and JSON (QJsonDocument); the main window captures and applies it
// (session_restore.h).
#pragma once
#include <QString>

#include "ess/operator_scope.h"

struct SessionState {
  /// The version this build writes and the newest it reads.
  static constexpr int kVersion = 1;

  /// A range on one axis (units of that axis: matrix columns/rows, splits, k and sigma, positions).
  struct Range {
    bool set = false;
    double lower = 0, upper = 0;
  };

  QString checkpoint;  ///< absolute path of the checkpoint folder, operator or generator file
  QString input;       ///< the input spec (textfile: paths absolute); empty for operator files
  double tolerance = 1e-3;
  QString normalization = QStringLiteral("max");  ///< max, sum or none
  QString dtype = QStringLiteral("float64");      ///< float64 or float32
  ess::OperatorScope operatorScope = ess::OperatorScope::Block;
  QString selectionKind = QStringLiteral("head");  ///< head, group or total
  int layer = 0, first = 0, last = 0;              ///< heads first..last inclusive
  int split = 0;                                   ///< 0: none stored
  QString tab;                                     ///< a tab's name, lower case ("head"); empty: none
  bool logScale = false;
  QString colormap = QStringLiteral("auto");    ///< auto or a colormaps::name
  QString colorRange = QStringLiteral("auto");  ///< as `ess render --range`
  bool maskUpper = false;
  bool allHeads = false;
  bool positionAllLayers = false;
  QString marks;  ///< the Position tab's "mark tokens:" text
  Range heatmapX, heatmapY, curveX, positionX;
  Range spectrumX, spectrumY;      ///< k (1-based index) and sigma; the spectrum at the stored split
  QString compareA;                ///< absolute path of the checkpoint pinned as A; empty: no comparison
  bool compareDifference = false;  ///< the heatmap shows T_B - T_A
};

namespace sessionfile {

/// The value of the "format" key.
inline constexpr const char* kFormat = "ess-explorer-session";

/// True when `path` is a regular file of at most 1 MiB whose text is a JSON object naming the
/// session format (a malformed session file counts, so that opening it explains what is wrong);
/// model folders, checkpoints and operator files are not.
bool looksLikeSession(const QString& path);

/// The JSON text of `state` as written to `sessionPath` (paths made relative to its folder
/// when below it).
QByteArray toJson(const SessionState& state, const QString& sessionPath);

/// Writes `state` to `path` atomically (ess::writeFileAtomically); false with *error set
/// ("<path>: <problem>") when it cannot be written.
bool write(const QString& path, const SessionState& state, QString* error);

/// Reads and checks `path`; paths come back absolute. False with *error set to one sentence
/// naming the file and the field: unreadable, not JSON (with the offset), not a session file,
/// a version newer than kVersion, a missing or mistyped field, a value out of its range, a
/// checkpoint that does not exist.
bool read(const QString& path, SessionState* state, QString* error);

/// "Session file <path>: field \"<field>\" <problem>." — the wording of every field error,
/// also of those found while applying the session (a layer the model does not have).
QString fieldError(const QString& sessionPath, const QString& field, const QString& problem);

}  // namespace sessionfile
