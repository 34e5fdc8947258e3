// `ess render FILE --figure heatmap|curve|spectrum|layers ... -o OUT.png|OUT.pdf|OUT.svg`
// Draws with the GUI's own views on Qt's offscreen platform (no display needed).
#include "commands.h"
#include "ess/error.h"
#include "session_options.h"

#ifdef ESS_HAVE_RENDER
#include <QApplication>

#include "ess_curve_view.h"
#include "figure_export.h"
#include "heatmap_view.h"
#include "layer_comparison_view.h"
#include "spectrum_view.h"
#include "split_point.h"
#include "view_data.h"
#endif

namespace ess::cli {

#ifndef ESS_HAVE_RENDER
int runRender(const std::vector<std::string>&) {
  throw UsageError("render: this build of ess has no Qt (configured with ESS_BUILD_GUI=OFF)");
}
#else

int runRender(const std::vector<std::string>& argv) {
  std::vector<std::string> names = computeOptionNames();
  for (const char* n : {"--figure", "--split", "--scale", "--width", "--height", "--dpi"}) names.push_back(n);
  Args a = Args::parse(argv, names);
  if (a.positional.size() != 1) throw UsageError("render: expected one FILE");
  if (!a.has("-o")) throw UsageError("render: -o OUT.png|OUT.pdf|OUT.svg is required");
  const std::string figureKind = a.get("--figure");
  if (figureKind != "heatmap" && figureKind != "curve" && figureKind != "spectrum" && figureKind != "layers")
    throw UsageError("--figure: expected heatmap, curve, spectrum or layers, got '" + figureKind + "'");
  const QString out = QString::fromStdString(a.get("-o"));
  figure::Format format;
  if (!figure::formatFromPath(out, &format) || format == figure::Format::Csv)
    throw UsageError("-o: expected a .png, .pdf or .svg file, got '" + a.get("-o") + "'");
  const std::string scale = a.get("--scale", "linear");
  if (scale != "linear" && scale != "log") throw UsageError("--scale: expected linear or log, got '" + scale + "'");
  figure::ExportOptions exportOptions;
  exportOptions.width = a.getInt("--width", 900);
  exportOptions.height = a.getInt("--height", figureKind == "heatmap" ? 760 : 520);
  exportOptions.dpi = a.getDouble("--dpi", 96.0);
  if (exportOptions.width < 50 || exportOptions.height < 50 || exportOptions.width > 20000 || exportOptions.height > 20000)
    throw UsageError("--width/--height: expected 50..20000 pixels");
  const EssOptions options = essOptionsFrom(a);

  auto session = openWithInput(a.positional[0], a);
  const SourceInfo& info = session->info();
  if (info.layers.empty()) throw InputError(info.path + ": holds no operator or model layers");
  const int layer = a.getInt("--layer", 0);
  if (layer < 0 || layer >= static_cast<int>(info.layers.size()))
    throw UsageError("--layer " + std::to_string(layer) + " is outside 0.." + std::to_string(info.layers.size() - 1));
  const int head = a.getInt("--head", 0);
  if (head < 0 || head >= info.layers[layer].heads)
    throw UsageError("--head " + std::to_string(head) + " is outside 0.." + std::to_string(info.layers[layer].heads - 1));

  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  // Scripts read stderr for `error:` lines only: keep Qt's informational warnings out of it.
  qInstallMessageHandler([](QtMsgType type, const QMessageLogContext&, const QString& msg) {
    if (type == QtCriticalMsg || type == QtFatalMsg) fprintf(stderr, "%s\n", qPrintable(msg));
  });
  int qargc = 1;
  char qname[] = "ess";
  char* qargv[] = {qname, nullptr};
  QApplication app(qargc, qargv);

  const QString fileName = QString::fromStdString(info.path).section('/', -1);
  const QString where = QStringLiteral("%1, layer %2 (%3), head %4")
                            .arg(fileName)
                            .arg(layer)
                            .arg(QString::fromStdString(info.layers[layer].mixer))
                            .arg(head);
  SplitPoint split;
  std::unique_ptr<PlotView> view;
  if (figureKind == "layers") {
    auto v = std::make_unique<LayerComparisonView>();
    QStringList labels;
    QVector<QVector<double>> means;
    for (const auto& l : info.layers) {
      const CurveData c = session->curve(l.index, options);
      labels << QStringLiteral("layer %1: %2").arg(l.index).arg(QString::fromStdString(l.mixer));
      means << viewdata::meanPerHead(c.tolerance);
    }
    v->setData(labels, means, QStringLiteral("mean tolerance-ESS"), fileName + QStringLiteral(": mean tolerance-ESS per head"));
    view = std::move(v);
  } else {
    const OperatorData op = session->operatorOf(layer);
    split.setLength(op.length);
    const int s = a.getInt("--split", op.length / 2);
    if (s < 1 || s > op.length - 1)
      throw UsageError("--split " + std::to_string(s) + " is outside 1.." + std::to_string(op.length - 1));
    split.setSplit(s);
    if (figureKind == "heatmap") {
      auto v = std::make_unique<HeatmapView>();
      v->setSplitPoint(&split);
      v->setScale(scale == "log" ? HeatmapView::Scale::Log10 : HeatmapView::Scale::Linear);
      v->setOperator(op.length, viewdata::headValues(op, head), QStringLiteral("operator T: ") + where);
      view = std::move(v);
    } else if (figureKind == "curve") {
      auto v = std::make_unique<EssCurveView>();
      v->setSplitPoint(&split);
      const CurveData c = session->curve(layer, options);
      v->setSeries({viewdata::series(c, head)}, QStringLiteral("ESS: ") + where);
      view = std::move(v);
    } else {
      auto v = std::make_unique<SpectrumView>();
      v->setSplitPoint(&split);
      v->setTolerance(options.tolerance_, viewdata::reference(options.normalization_));
      const std::vector<double> sigma = session->spectrum(layer, head, s, options);
      v->setSpectrum(s, QVector<double>(sigma.begin(), sigma.end()), QStringLiteral("singular values of H_s: ") + where);
      view = std::move(v);
    }
  }
  view->resize(exportOptions.width, exportOptions.height);
  QString error;
  if (!figure::save(view.get(), out, exportOptions, &error)) throw InputError(error.toStdString());
  return 0;
}
#endif

}  // namespace ess::cli
