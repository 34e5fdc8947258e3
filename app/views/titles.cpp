#include "titles.h"

#include <QCoreApplication>

#include "view_data.h"

namespace titles {

namespace {
QString tr(const char* text) { return QCoreApplication::translate("MainWindow", text); }
}  // namespace

QString selectionLabel(const ess::SourceInfo& info, const Selection& s) {
  if (!s.isValid()) return QString();
  const int layer = s.layer(), first = s.first(), last = s.last();
  const QString noun = viewdata::unitNoun(info, layer), nouns = viewdata::unitNoun(info, layer, true);
  if (s.isLayerTotal()) return tr("layer total (%1 %2)").arg(last - first + 1).arg(last == first ? noun : nouns);
  if (s.isAggregate())
    return first == last ? tr("%1 %2").arg(noun).arg(first) : tr("%1 %2-%3").arg(nouns).arg(first).arg(last);
  return tr("%1 %2").arg(noun).arg(s.head());
}

QString headTitle(const ess::SourceInfo& info, const Selection& s) {
  const int layer = s.layer();
  if (layer < 0 || layer >= int(info.layers.size())) return QString();
  return tr("layer %1 (%2), %3")
      .arg(layer)
      .arg(QString::fromStdString(info.layers[layer].mixer))
      .arg(selectionLabel(info, s));
}

QString toleranceSuffix(double tolerance) { return tr(" (tol %1)").arg(tolerance, 0, 'g', 3); }

}  // namespace titles
