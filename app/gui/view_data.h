// Conversions from the core's plain results (ess/session.h) to the views' Qt data
// (esswidgets), shared by the GUI and `ess render`.
#pragma once
#include <QVector>

#include "ess/session.h"
#include "ess_curve_view.h"
#include "spectrum_view.h"

namespace viewdata {

/// Row-major L x L values of head `head` of `op`.
QVector<double> headValues(const ess::OperatorData& op, int head);

/// The curve of head `head` as a series named "head H".
EssSeries series(const ess::CurveData& curve, int head);

/// Mean tolerance-ESS (or any [H][S] table) over splits, one value per head.
QVector<double> meanPerHead(const std::vector<std::vector<double>>& perHead);

/// The spectrum view's threshold reference for a normalization.
SpectrumView::Reference reference(ess::Normalization n);

}  // namespace viewdata
