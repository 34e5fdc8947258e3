// PlotView: the common base of the ESS Explorer figures (heatmap, ESS curve, spectrum, layer
// comparison). A QCustomPlot with a title, an optional shared SplitPoint it observes, signals
// for intent (splitRequested) and hover readouts, and the numbers behind the figure as CSV.
#pragma once
#include <qcustomplot.h>

#include <QPointer>
#include <QString>

#include "split_point.h"

/// How a figure is drawn: the screen style (the GUI's) or the paper style (smaller text,
/// thinner lines, tighter margins, for a figure a paper column wide). Sizes are in points
/// (1/72 in); lines and paddings follow the text size and the preset.
struct FigureStyle {
  enum class Preset { Screen, Paper };
  Preset preset = Preset::Screen;
  QString fontFamily;  ///< empty: the application's font family
  double fontSize =
      0;  ///< tick-label size in pt (titles and axis labels a little larger); 0: the preset's (screen 9, paper 7.5)
  double baseFontSize() const { return fontSize > 0 ? fontSize : (preset == Preset::Paper ? 7.5 : 9.0); }
  /// The title: the view's (auto), none (a paper figure's caption says it), or `titleText`.
  enum class Title { Auto, None, Custom };
  Title title = Title::Auto;
  QString titleText;
  /// Line widths relative to the screen style's.
  double lineScale() const { return preset == Preset::Paper ? 0.65 : 1.0; }
  /// "screen" or "paper"; false for anything else.
  static bool presetFromName(const QString& name, Preset* preset);
};

/// Dots per inch that QFontMetrics measures with (the primary screen's logical dpi). Figures
/// are laid out in these units and painted on devices of the same dpi, so text is measured
/// and drawn at one size.
double layoutDpi();

class PlotView : public QCustomPlot {
  Q_OBJECT
 public:
  explicit PlotView(QWidget* parent = nullptr);

  /// The numbers behind the figure, as CSV with a header line.
  virtual QString toCsv() const = 0;
  /// Short name used for default export file names ("heatmap", "ess_curve", ...).
  virtual QString figureName() const = 0;

  /// Observes `split` (may be null to detach). The view does not own it.
  void setSplitPoint(SplitPoint* split);
  SplitPoint* splitPoint() const { return splitPoint_; }

  /// The title above the plot; wrapped at spaces onto more lines when wider than the plot
  /// (narrow windows and exports). title() gives it unwrapped.
  void setTitle(const QString& title);
  QString title() const;

  /// The style every text, line and padding is drawn in (default: the screen style).
  void setFigureStyle(const FigureStyle& style);
  const FigureStyle& figureStyle() const { return style_; }

  /// The height (layout units) a figure `width` wide needs with no empty bands: the heatmap's
  /// square matrix with its colour bar; 0 when the figure has no natural aspect.
  virtual int tightHeight(int width) {
    Q_UNUSED(width);
    return 0;
  }
  /// The least height (layout units) the figure needs `width` wide: its rows (plots at their
  /// minimum size, legends, labels) as laid out. Exports without a natural aspect are at least
  /// this tall, so that nothing is pushed off the page.
  int minimumHeight(int width);
  /// Height / width of an export without a natural aspect (tightHeight 0).
  virtual double aspect() const { return 0.58; }

  QSize sizeHint() const override { return {480, 360}; }
  QSize minimumSizeHint() const override { return {200, 160}; }

 signals:
  /// The user asked for split `split` (click or drag); apply it to the SplitPoint.
  void splitRequested(int split);
  /// One-line readout of what lies under the mouse (empty when nothing).
  void hoverChanged(const QString& text);

 protected:
  /// Called when the observed split or length changes.
  virtual void onSplitChanged(int split) { Q_UNUSED(split); }
  virtual void onLengthChanged(int length) { Q_UNUSED(length); }
  int currentSplit() const { return splitPoint_ ? splitPoint_->split() : 0; }

  /// A legend of its own in plot-layout row `row`, column 0, centred between two zero-height
  /// spacers (so it never sits over the data).
  QCPLegend* addCentredLegendRow(int row);

  /// Lays `legend` out in the most columns, up to `most`, that fit `available` layout units
  /// with each column as wide as its widest entry (not every column as wide as the widest of
  /// all: a thumbnail's legend keeps two or three entries a row), filled row by row, and caps its
  /// height at its rows'. True when the number of columns changed.
  static bool fitLegendColumns(QCPLegend* legend, int available, int most);

  /// A crisp (non-interpolated) colour map on the main axes with a colour scale at the right
  /// of the plot (layout cell 1, 1), the scale's fonts matching the axes.
  QCPColorMap* addColorMapWithScale(QCPColorScale** scale);

  /// Wraps the title to the current width, then lays out (QCustomPlot calls this on replot,
  /// also for exports at another size).
  void updateLayout() override;

  /// Applies the style to every axis, legend, text element, item and plottable (fonts by their
  /// design size, pens by their design width, recorded the first time each is seen).
  void applyFigureStyle();
  /// How far the screen style has shrunk toward the paper style's text and paddings: 0 at 3 in
  /// wide or more (or with an explicit font size, or in the paper style), 1 at 2 in or less.
  double compactness() const;
  /// The least length (layout units) at which `axis`'s title wraps into `maxLines` lines
  /// without an ellipsis (0 without a title).
  static int labelLength(QCPAxis* axis, int maxLines);
  /// Wraps the title to its layout cell and axis titles to their axes; true when a text changed.
  bool wrapTexts();
  /// Tick counts that fit the axes' lengths; true when one changed.
  bool fitTickCounts();

  QCPTextElement* titleElement_ = nullptr;

 private:
  FigureStyle style_;
  QPointer<SplitPoint> splitPoint_;
  QString fullTitle_;
};

/// Ticks on an index axis (positions, splits, k): whole numbers only, a step of 1, 2 or 5
/// times a power of ten, sub-ticks only where they fall on whole numbers.
class IndexTicker : public QCPAxisTicker {
 protected:
  double getTickStep(const QCPRange& range) override;
  int getSubTickCount(double tickStep) override;
};

/// Ticks on a log10 axis at decades only: every decade with sub-ticks at 2..9 for spans up to
/// 8 decades, every 2nd, 5th, 10th, ... decade beyond (labels 10^k, about 4 to 8 of them at
/// any span). Ranges under one decade get their two enclosing decades.
class DecadeTicker : public QCPAxisTicker {
 protected:
  QVector<double> createTickVector(double tickStep, const QCPRange& range) override;
  QVector<double> createSubTickVector(int subTickCount, const QVector<double>& ticks) override;
  int getSubTickCount(double tickStep) override;
  double getTickStep(const QCPRange& range) override;
};

/// Formats a number for CSV: shortest round-trip form ("nan" for NaN, empty never).
QString csvNumber(double v);
/// The `step` column of compare CSVs: a training step, empty when unknown (negative).
QString csvStep(qint64 step);
