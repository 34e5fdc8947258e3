// `ess render FILE --figure heatmap|curve|spectrum|layers|position ... -o OUT.png|OUT.pdf|OUT.svg`
// Draws with the GUI's own views on Qt's offscreen platform (no display needed).
// `--head H`, `--head A:B` (a channel group, inclusive) or `--head total` (every head): a group
// or total draws the summed curves (each head times its value channels) with the summed TSS and
// the utilization, the mean |T| over its heads as the heatmap, and the spectrum of its first head.
// Long operators (a dense H x L x L float64 form over the memory budget, `--memory-budget GIB`,
// default 2; or generator files with L > 4096) are drawn from a point-sampled overview tile at
// the output size (ess::Session::operatorTile): a group or total then shows its first head.
// `--figure position`: ESS over position with the token text along the x axis, of the layer
// total (default; or `--head H|A:B`) of `--layer N`, or of every layer's total with `--layer
// all` (one row per layer); `--mark "\n, <eos>"` names the delimiter tokens marked.
#include "commands.h"
#include "ess/error.h"
#include "ess/view_policy.h"
#include "output.h"
#include "session_options.h"

#ifdef ESS_HAVE_RENDER
#include <QApplication>

#include "ess_curve_view.h"
#include "figure_export.h"
#include "heatmap_view.h"
#include "layer_comparison_view.h"
#include "position_ess_view.h"
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
  for (const char* n : {"--figure", "--split", "--scale", "--width", "--height", "--dpi", "--mark"}) names.push_back(n);
  Args a = Args::parse(argv, names);
  if (a.positional.size() != 1) throw UsageError("render: expected one FILE");
  if (!a.has("-o")) throw UsageError("render: -o OUT.png|OUT.pdf|OUT.svg is required");
  refuseOutputOverInput(a.get("-o"), a.positional[0]);
  const std::string figureKind = a.get("--figure");
  if (figureKind != "heatmap" && figureKind != "curve" && figureKind != "spectrum" && figureKind != "layers" &&
      figureKind != "position")
    throw UsageError("--figure: expected heatmap, curve, spectrum, layers or position, got '" + figureKind + "'");
  const QString out = QString::fromStdString(a.get("-o"));
  figure::Format format;
  if (!figure::formatFromPath(out, &format) || format == figure::Format::Csv)
    throw UsageError("-o: expected a .png, .pdf or .svg file, got '" + a.get("-o") + "'");
  const std::string scale = a.get("--scale", "linear");
  if (scale != "linear" && scale != "log") throw UsageError("--scale: expected linear or log, got '" + scale + "'");
  figure::ExportOptions exportOptions;
  exportOptions.width = a.getInt("--width", 900);
  exportOptions.height = a.getInt("--height", figureKind == "heatmap" ? 760 : figureKind == "position" ? 620 : 520);
  exportOptions.dpi = a.getDouble("--dpi", 96.0);
  if (exportOptions.width < 50 || exportOptions.height < 50 || exportOptions.width > 20000 ||
      exportOptions.height > 20000)
    throw UsageError("--width/--height: expected 50..20000 pixels");
  // Options that only some figures use are refused elsewhere rather than ignored.
  if (a.has("--mark") && figureKind != "position") throw UsageError("--mark applies to --figure position only");
  const EssOptions options = essOptionsFrom(a);

  auto session = openWithInput(a.positional[0], a);
  const SourceInfo& info = session->info();
  if (info.layers.empty()) throw InputError(info.path + ": holds no operator or model layers");
  const bool allLayers = figureKind == "position" && a.get("--layer") == "all";
  const int layer = allLayers ? 0 : a.getInt("--layer", 0);
  if (layer < 0 || layer >= static_cast<int>(info.layers.size()))
    throw UsageError("--layer " + std::to_string(layer) + " is outside 0.." + std::to_string(info.layers.size() - 1));
  const int heads = info.layers[layer].heads;
  const std::string headSpec = a.get("--head", figureKind == "position" ? "total" : "0");
  int first = 0, last = heads - 1;
  const bool total = headSpec == "total";
  const bool group = !total && headSpec.find(':') != std::string::npos;
  if (!total) {
    const auto colon = headSpec.find(':');
    const auto toInt = [&](const std::string& t) {
      size_t used = 0;
      int v = -1;
      try {
        v = std::stoi(t, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (t.empty() || used != t.size()) throw UsageError("--head: expected H, A:B or total, got '" + headSpec + "'");
      return v;
    };
    first = toInt(headSpec.substr(0, colon));
    last = colon == std::string::npos ? first : toInt(headSpec.substr(colon + 1));
  }
  if (first < 0 || last >= heads || first > last)
    throw UsageError("--head " + headSpec + " is outside 0.." + std::to_string(heads - 1));
  const int head = first;
  const bool aggregate = total || group;
  std::vector<int> members;
  for (int h = first; h <= last; ++h) members.push_back(h);

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
  const QString what = total   ? QStringLiteral("layer total")
                       : group ? QStringLiteral("heads %1-%2 summed").arg(first).arg(last)
                               : QStringLiteral("head %1").arg(head);
  const QString where = QStringLiteral("%1, layer %2 (%3), %4")
                            .arg(fileName)
                            .arg(layer)
                            .arg(QString::fromStdString(info.layers[layer].mixer))
                            .arg(what);
  SplitPoint split;
  std::unique_ptr<PlotView> view;
  if (a.has("--split") && (figureKind == "position" || figureKind == "layers")) {
    // Not drawn by these figures, but checked like everywhere (scripts pass one set of options).
    const int length = info.length > 0 ? info.length : static_cast<int>(session->tokens().size());
    const int s = a.getInt("--split", 1);
    if (s < 1 || s > length - 1)
      throw UsageError("--split " + std::to_string(s) + " is outside 1.." + std::to_string(length - 1));
  }
  if (figureKind == "position") {
    auto v = std::make_unique<PositionEssView>();
    const QStringList tokens = viewdata::labelsOf(session->tokenLabels());
    QVector<PositionRow> rows;
    QString title;
    if (allLayers) {
      std::vector<CurveData> curves;
      for (const auto& l : info.layers) curves.push_back(session->curve(l.index, options));
      std::vector<const CurveData*> pointers;
      for (const CurveData& c : curves) pointers.push_back(&c);
      rows = viewdata::layerTotalRows(info, pointers);
      title = fileName + QStringLiteral(": ESS over position, every layer's total");
    } else {
      const CurveData c = session->curve(layer, options);
      if (aggregate)
        rows.append({layer, viewdata::totalSeries(sumHeads(c, info.layers[layer], members), what)});
      else
        rows.append({layer, viewdata::series(c, head)});
      title = QStringLiteral("ESS over position: ") + where;
    }
    v->setRows(rows, tokens, title);
    v->setMarkedTokens(PositionEssView::parseMarks(QString::fromStdString(a.get("--mark", viewdata::kDefaultMarks))));
    view = std::move(v);
  } else if (figureKind == "layers") {
    auto v = std::make_unique<LayerComparisonView>();
    std::vector<CurveData> curves;
    for (const auto& l : info.layers) curves.push_back(session->curve(l.index, options));
    std::vector<const CurveData*> pointers;
    for (const CurveData& c : curves) pointers.push_back(&c);
    viewdata::fillLayerView(*v, info, pointers,
                            fileName + QStringLiteral(": layer totals (mean over splits) and mean tolerance-ESS per "
                                                      "head or channel group"));
    view = std::move(v);
  } else {
    // The operator's length without forming it (operator and generator files: the file's;
    // models: the input's).
    const int length = info.length > 0 ? info.length : static_cast<int>(session->tokens().size());
    split.setLength(length);
    const int s = a.getInt("--split", length / 2);
    if (s < 1 || s > length - 1)
      throw UsageError("--split " + std::to_string(s) + " is outside 1.." + std::to_string(length - 1));
    split.setSplit(s);
    const bool tiled = isTiledLayer(info.architecture, heads, length, session->memoryBudget());
    if (figureKind == "heatmap" && tiled) {
      auto v = std::make_unique<HeatmapView>();
      v->setSplitPoint(&split);
      v->setScale(scale == "log" ? HeatmapView::Scale::Log10 : HeatmapView::Scale::Linear);
      TileRequest req;
      req.maxRows = req.maxColumns = std::max(exportOptions.width, exportOptions.height);
      const OperatorTile tile = session->operatorTile(layer, head, req);
      QString second = tile.rowStep > 1 ? QStringLiteral("point-sampled overview 1:%1").arg(tile.rowStep)
                                        : QStringLiteral("exact entries");
      if (aggregate) second = QStringLiteral("head %1 only (no mean |T| for long operators), ").arg(head) + second;
      v->setTiledOperator(length, viewdata::tileOf(tile),
                          QStringLiteral("operator T: ") + where + QStringLiteral(", L = %1\n").arg(length) + second);
      view = std::move(v);
    } else if (figureKind == "heatmap") {
      const OperatorData op = session->operatorOf(layer);
      auto v = std::make_unique<HeatmapView>();
      v->setSplitPoint(&split);
      v->setScale(scale == "log" ? HeatmapView::Scale::Log10 : HeatmapView::Scale::Linear);
      if (aggregate) {
        const std::vector<double> mean = meanAbsOperator(op, members);
        v->setOperator(op.length, QVector<double>(mean.begin(), mean.end()), QStringLiteral("mean |T|: ") + where);
      } else {
        v->setOperator(op.length, viewdata::headValues(op, head), QStringLiteral("operator T: ") + where);
      }
      // A text input puts its tokens on the axes (as in the GUI); token ids stay off them.
      if (isTextInput(session->input())) v->setTokenLabels(viewdata::labelsOf(session->tokenLabels()));
      view = std::move(v);
    } else if (figureKind == "curve") {
      auto v = std::make_unique<EssCurveView>();
      v->setSplitPoint(&split);
      const CurveData c = session->curve(layer, options);
      if (aggregate) {
        const HeadTotal t = sumHeads(c, info.layers[layer], members);
        v->setSeries({viewdata::totalSeries(t, what)}, QStringLiteral("ESS: ") + where);
      } else {
        v->setSeries({viewdata::series(c, head)}, QStringLiteral("ESS: ") + where);
      }
      view = std::move(v);
    } else {
      auto v = std::make_unique<SpectrumView>();
      v->setSplitPoint(&split);
      v->setTolerance(options.tolerance_, viewdata::reference(options.normalization_));
      const std::vector<double> sigma = session->spectrum(layer, head, s, options);
      v->setSpectrum(s, QVector<double>(sigma.begin(), sigma.end()), viewdata::cutOf(sigma, options),
                     where + (aggregate ? QStringLiteral(" (its first head, %1)").arg(head) : QString()));
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
