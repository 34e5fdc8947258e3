// SpectrumView: singular values sigma_1 >= sigma_2 >= ... of the Hankel block H_s at the
// current split on a log scale, with the tolerance threshold tol * ref drawn as a horizontal
// line (ref = sigma_1, sum of sigma, or 1; docs/definitions.md section 1) and the number of values
// above it (the tolerance-ESS at s) in the title. The threshold and the count come with the
// values (the core's ess::toleranceCut, ess/view_policy.h): the view draws them.
#pragma once
#include <QVector>

#include "plot_view.h"

/// The tolerance threshold of a spectrum and the count of singular values above it.
struct SpectrumCut {
  double threshold = 0.0;
  int count = -1;  ///< -1: no threshold (none drawn, no count in the title)
};

class SpectrumView : public PlotView {
  Q_OBJECT
 public:
  /// What the tolerance multiplies (mirrors ess::Normalization without depending on core).
  enum class Reference { Max, Sum, None };

  explicit SpectrumView(QWidget* parent = nullptr);

  /// Singular values of H_s at split `split`, descending, with their tolerance cut. `title`
  /// (what they belong to, e.g. "layer 1, channel 8 (first of channels 8-15)") goes on a second
  /// title line; empty: none.
  void setSpectrum(int split, const QVector<double>& sigma, SpectrumCut cut = {}, const QString& title = QString());
  void clear();
  /// The tolerance and its reference, for the threshold's label ("threshold 0.001 × σ₁ = ...").
  void setTolerance(double tolerance, Reference reference);

  /// Split whose spectrum is shown (0 when none). While it differs from the observed split the
  /// view marks itself as waiting for new values.
  int dataSplit() const { return dataSplit_; }
  const QVector<double>& sigma() const { return sigma_; }
  double threshold() const { return cut_.threshold; }
  int countAboveThreshold() const { return cut_.count; }

  /// Fits the axes to every value and the threshold (what a new spectrum shows).
  void resetView();

  QString toCsv() const override;
  QString figureName() const override { return QStringLiteral("spectrum"); }

 protected:
  void onSplitChanged(int split) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  /// Resets the zoom (resetView) and nothing else.
  void mouseDoubleClickEvent(QMouseEvent* event) override;

 private:
  void refresh();

  int dataSplit_ = 0;
  QVector<double> sigma_;
  SpectrumCut cut_;
  QString baseTitle_;
  double tolerance_ = 1e-3;
  Reference reference_ = Reference::Max;
  QCPGraph* graph_ = nullptr;
  QCPItemStraightLine* thresholdLine_ = nullptr;
  QCPItemText* thresholdLabel_ = nullptr;
};
