// Titles: how the GUI names a selection in titles and labels ("head 1", "channels 8-15",
// "layer total (64 channels)"), in the units the layer's operators act on (ess/session.h
// SourceInfo: heads, or channels for layers of SISO channel operators).
#pragma once
#include <QString>

#include "ess/session.h"
#include "selection.h"

namespace titles {

/// "head 1", "channels 8-15", "layer total (64 channels)"; empty when nothing is selected.
QString selectionLabel(const ess::SourceInfo& info, const Selection& selection);

/// "layer 0 (gla), head 1"; empty when the selection's layer is not in `info`.
QString headTitle(const ess::SourceInfo& info, const Selection& selection);

/// " (tol 0.01)": the tolerance the ESS views' titles end with.
QString toleranceSuffix(double tolerance);

}  // namespace titles
