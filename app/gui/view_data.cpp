#include "view_data.h"

#include <cmath>

namespace viewdata {

QVector<double> headValues(const ess::OperatorData& op, int head) {
  const size_t block = static_cast<size_t>(op.length) * op.length;
  const auto begin = op.values.begin() + static_cast<std::ptrdiff_t>(head * block);
  return QVector<double>(begin, begin + static_cast<std::ptrdiff_t>(block));
}

EssSeries series(const ess::CurveData& curve, int head) {
  EssSeries s;
  s.name = QStringLiteral("head %1").arg(head);
  for (size_t i = 0; i < curve.splits.size(); ++i) {
    s.splits << curve.splits[i];
    s.tolerance << curve.tolerance[head][i];
    s.entropy << curve.entropy[head][i];
    s.tss << curve.tss[head][i];
  }
  return s;
}

QVector<double> meanPerHead(const std::vector<std::vector<double>>& perHead) {
  QVector<double> means;
  for (const auto& row : perHead) {
    double sum = 0;
    for (double v : row) sum += v;
    means << (row.empty() ? std::nan("") : sum / row.size());
  }
  return means;
}

SpectrumView::Reference reference(ess::Normalization n) {
  switch (n) {
    case ess::Normalization::Sum: return SpectrumView::Reference::Sum;
    case ess::Normalization::None: return SpectrumView::Reference::None;
    default: return SpectrumView::Reference::Max;
  }
}

}  // namespace viewdata
