// Colormaps for the ESS Explorer views: perceptually uniform sequential gradients (viridis,
// magma, cividis; matplotlib's, built from control points since QCustomPlot 2.1 has none of
// them) and a diverging map centred on 0 for signed operators (ColorBrewer RdBu, blue for
// negative, red for positive), the colour of NaN and the neutral colour of masked cells.
#pragma once
#include <qcustomplot.h>

#include <QString>

namespace colormaps {

enum class Map { Viridis, Magma, Cividis, Diverging };

/// The gradient of `map`, 256 levels, NaN drawn in `nanColor()`. The diverging map's centre
/// (position 0.5) is its white; with a range symmetric about 0 it is the colour of 0.
QCPColorGradient gradient(Map map);
/// Viridis (van der Walt and Smith, matplotlib 2.0), 9 control points.
QCPColorGradient viridis();
/// "viridis", "magma", "cividis", "diverging".
QString name(Map map);
/// From name(); false for anything else.
bool fromName(const QString& name, Map* map);
/// Colour of NaN cells: magenta, outside the maps' hue ranges so that it stands out.
QColor nanColor();
/// Cells that hold no value: exact zeros on a log scale and the masked causal upper triangle,
/// a mid grey distinct from every map's ends and from the diverging map's white centre.
QColor maskColor();
/// Qualitative colours for heads / series (Okabe-Ito, colour-blind safe).
QColor seriesColor(int index);

}  // namespace colormaps
