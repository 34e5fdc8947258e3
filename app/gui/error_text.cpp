#include "error_text.h"

#include "ess/error.h"

namespace errortext {

QString labelOf(const std::string& key, bool first) {
  QString label = QString::fromStdString(key).replace(QLatin1Char('_'), QLatin1Char(' '));
  if (first && !label.isEmpty()) label[0] = label[0].toUpper();
  return label;
}

QString messageOf(const std::exception& e) {
  if (const auto* error = dynamic_cast<const ess::Error*>(&e))
    return QString::fromStdString(
        error->text([](const std::string& key, bool first) { return labelOf(key, first).toStdString(); }));
  return QString::fromStdString(e.what());
}

}  // namespace errortext
