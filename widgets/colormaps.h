// Colormaps for the ESS Explorer views: perceptually uniform gradients (viridis) built from
// control points, since QCustomPlot 2.1 has no viridis preset, and the colour used for NaN.
#pragma once
#include <qcustomplot.h>

namespace colormaps {

/// Viridis (van der Walt and Smith, matplotlib 2.0), 9 control points, NaN drawn in `nanColor()`.
QCPColorGradient viridis();
/// Colour of NaN cells: magenta, outside viridis' hue range so that it stands out.
QColor nanColor();
/// Qualitative colours for heads / series (Okabe-Ito, colour-blind safe).
QColor seriesColor(int index);

}  // namespace colormaps
