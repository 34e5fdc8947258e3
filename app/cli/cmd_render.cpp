// `ess render FILE --figure heatmap|curve|spectrum|layers|position|grid|training ... -o OUT.png|OUT.pdf|OUT.svg`
// Draws with the GUI's own views on Qt's offscreen platform (no display needed).
// `--head H`, `--head A:B` (a channel group, inclusive) or `--head total` (every head): a group
// or total draws the summed curves (each head times its value channels) with the summed TSS and
// the utilization, the mean |T| over its heads as the heatmap, and the spectrum of its first head.
// Long operators (a dense H x L x L float64 form over the memory budget, `--memory-budget GIB`,
// default half this machine's memory; or generator files with L > 4096) are drawn from a
// point-sampled overview tile at the output size (ess::Session::operatorTile): a group or total
// then shows its first head.
// `--figure position`: ESS over position with the token text along the x axis, of the layer
// total (default; or `--head H|A:B`) of `--layer N`, or of every layer's total with `--layer
// all` (one row per layer); `--mark "\n, <eos>"` names the delimiter tokens marked.
// `--figure grid`: small multiples, a row per layer of `--layer N|all` (default all) and a
// column per head of `--head H|A:B|all` (default all), `--panel heatmap` (T, one colour bar and
// range for all panels) or `--panel curve` (ESS curves on one y range); GridFigureView.
// `--figure training` (FILE is a run, ess/run.h): per layer of `--layer N|all` (default all), the
// mean over splits of the layer total's `--measure tolerance|entropy|utilization` (default
// tolerance) at every checkpoint, averaged over the inputs (`--input` once per input; none: each
// checkpoint's default input), above the run's logged loss and accuracy; TrainingFigureView.
// `--compare B`: checkpoint B at the same input beside FILE (A), each named by its checkpoint:
// curve, position and layers overlay both; `--figure heatmap --compare B --diff` draws
// T_B - T_A (diverging map, symmetric range unless --colormap/--range say otherwise). Layouts
// that differ (ess::layoutMismatch) are an error naming both.
#include "commands.h"
#include "ess/error.h"
#include "ess/view_policy.h"
#include "output.h"
#include "session_options.h"

#ifdef ESS_HAVE_RENDER
#include <QApplication>
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "ess/aggregate.h"
#include "ess/run.h"
#include "ess_curve_view.h"
#include "figure_export.h"
#include "grid_panels.h"
#include "heatmap_view.h"
#include "layer_comparison_view.h"
#include "position_ess_view.h"
#include "spectrum_view.h"
#include "split_point.h"
#include "training_figure_view.h"
#include "view_data.h"
#endif

namespace ess::cli {

#ifndef ESS_HAVE_RENDER
int runRender(const std::vector<std::string>&) {
  throw UsageError("render: this build of ess has no Qt (configured with ESS_BUILD_GUI=OFF)");
}
#else

namespace {

// Qt on the offscreen platform (no display needed).
std::unique_ptr<QApplication> startQt() {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  // Scripts read stderr for `error:` lines only: keep Qt's informational warnings out of it.
  qInstallMessageHandler([](QtMsgType type, const QMessageLogContext&, const QString& msg) {
    if (type == QtCriticalMsg || type == QtFatalMsg) fprintf(stderr, "%s\n", qPrintable(msg));
  });
  static int qargc = 1;
  static char qname[] = "ess";
  static char* qargv[] = {qname, nullptr};
  return std::make_unique<QApplication>(qargc, qargv);
}

// Styles `view`, sizes it and writes it to `out`.
void writeFigure(PlotView* view, const FigureStyle& style, figure::Format format, const figure::ExportOptions& options,
                 const QString& out) {
  view->setFigureStyle(style);
  // The widget at the figure's size in layout units (what interactive sizing logic reads).
  const double perInch = format == figure::Format::Png ? options.dpi : 72.0;
  const QSize size = figure::resolvedSize(view, format, options);
  view->resize(int(size.width() / perInch * layoutDpi()), int(size.height() / perInch * layoutDpi()));
  QString error;
  if (!figure::save(view, out, options, &error)) throw InputError(error.toStdString());
}

// `--figure grid`: the layers (rows) and each one's heads (columns).
struct GridSelection {
  std::vector<int> layers;
  std::vector<std::vector<int> > heads;
  int columns = 0;
};

constexpr int kMaxGridPanels = 64;

GridSelection gridSelection(const Args& a, const SourceInfo& info, Session& session) {
  GridSelection g;
  g.layers = indicesFrom(a, "--layer", static_cast<int>(info.layers.size()));
  const std::string headSpec = a.get("--head", "all");
  if (headSpec == "total")
    throw UsageError(
        "--head total: the grid draws single heads (all, H or A:B); --figure heatmap|curve --head total "
        "draws a layer total");
  size_t panels = 0;
  for (int layer : g.layers) {
    g.heads.push_back(parseHeadRange(headSpec, info.layers[layer].heads, layer));
    panels += g.heads.back().size();
    g.columns = std::max(g.columns, static_cast<int>(g.heads.back().size()));
  }
  if (panels > kMaxGridPanels)
    throw UsageError("--figure grid: " + std::to_string(panels) + " panels (layers x heads) is over " +
                     std::to_string(kMaxGridPanels) + "; choose fewer with --layer N or --head A:B");
  if (a.has("--split")) {
    // Not drawn, but checked like everywhere (scripts pass one set of options).
    const int length = info.length > 0 ? info.length : static_cast<int>(session.tokens().size());
    const int s = a.getInt("--split", 1);
    if (s < 1 || s > length - 1)
      throw UsageError("--split " + std::to_string(s) + " is outside 1.." + std::to_string(length - 1));
  }
  return g;
}

// `--figure training`: the series of every layer chosen, one point per checkpoint, and the run's
// logged metrics.
struct TrainingData {
  QVector<TrainingSeries> ess, metrics;
  QString essLabel;
};

TrainingData trainingData(const TrainingRun& run, const Args& a, const std::vector<std::string>& inputs,
                          const std::string& measure, const EssOptions& options) {
  TrainingData d;
  d.essLabel = measure == "utilization" ? QStringLiteral("ESS / TSS")
                                        : QStringLiteral("mean %1-ESS").arg(QString::fromStdString(measure));
  std::vector<int> layers;
  for (size_t i = 0; i < run.checkpoints.size(); ++i) {
    const RunCheckpoint& c = run.checkpoints[i];
    auto session = openWithInput(c.path, a);
    const SourceInfo& info = session->info();
    if (i == 0) {
      if (info.layers.empty()) throw InputError(c.path + ": holds no operator or model layers");
      layers = indicesFrom(a, "--layer", static_cast<int>(info.layers.size()));
      // The mixer in each name only where the layers differ (a hybrid), so the legend stays short.
      bool oneKind = true;
      for (int l : layers) oneKind = oneKind && info.layers[l].mixer == info.layers[layers[0]].mixer;
      for (int l : layers)
        d.ess.append({oneKind
                          ? QStringLiteral("layer %1").arg(l)
                          : QStringLiteral("layer %1 (%2)").arg(l).arg(QString::fromStdString(info.layers[l].mixer)),
                      {},
                      {}});
    } else if (info.layers.size() <= static_cast<size_t>(layers.back())) {
      throw InputError(c.path + ": has " + std::to_string(info.layers.size()) +
                       " layer(s), the run's first checkpoint " + run.checkpoints[0].path + " has " +
                       std::to_string(layers.back() + 1) + " or more");
    }
    std::vector<double> sums(layers.size(), 0.0);
    const std::vector<std::string> specs = inputs.empty() ? std::vector<std::string>{""} : inputs;
    for (const std::string& spec : specs) {
      if (!spec.empty()) session->setInput(spec);
      for (size_t k = 0; k < layers.size(); ++k) {
        const HeadTotal t = layerTotal(session->curve(layers[k], options), info.layers[layers[k]]);
        sums[k] += measure == "tolerance" ? t.toleranceSummary.mean
                   : measure == "entropy" ? t.entropySummary.mean
                                          : t.utilizationSummary.mean;
      }
    }
    const double step = c.step >= 0 ? double(c.step) : double(i);  // unknown steps: the listed position
    for (size_t k = 0; k < layers.size(); ++k) {
      d.ess[k].steps.append(step);
      d.ess[k].values.append(sums[k] / double(specs.size()));
    }
  }
  for (const std::string& name : run.metricNames()) {
    if (!TrainingFigureView::drawsMetric(QString::fromStdString(name))) continue;
    TrainingSeries s{QString::fromStdString(name), {}, {}};
    for (const RunMetrics& m : run.metrics)
      if (auto it = m.values.find(name); it != m.values.end()) {
        s.steps.append(double(m.step));
        s.values.append(it->second);
      }
    d.metrics.append(s);
  }
  return d;
}

}  // namespace

int runRender(const std::vector<std::string>& argvIn) {
  // --input may be given once per input for --figure training (their mean is drawn).
  std::vector<std::string> argv, inputs;
  for (size_t i = 0; i < argvIn.size(); ++i) {
    if (argvIn[i] == "--input" && i + 1 < argvIn.size()) {
      inputs.push_back(argvIn[++i]);
    } else if (argvIn[i].rfind("--input=", 0) == 0) {
      inputs.push_back(argvIn[i].substr(8));
    } else {
      argv.push_back(argvIn[i]);
    }
  }
  for (const std::string& in : inputs) {
    if (in.empty()) throw UsageError("--input: empty value");
    if (&in == &inputs.back()) argv.insert(argv.end(), {"--input", in});  // the other figures read one
  }
  std::vector<std::string> names = computeOptionNames();
  for (const char* n :
       {"--measure", "--figure", "--split", "--scale", "--width", "--height", "--dpi", "--mark", "--style",
        "--font-size", "--font-family", "--colormap", "--range", "--title", "--panel", "--compare"})
    names.push_back(n);
  Args a = Args::parse(argv, names, {"--mask-upper", "--diff"});
  if (a.positional.size() != 1) throw UsageError("render: expected one FILE");
  if (!a.has("-o")) throw UsageError("render: -o OUT.png|OUT.pdf|OUT.svg is required");
  refuseOutputOverInput(a.get("-o"), a.positional[0]);
  const std::string figureKind = a.get("--figure");
  if (figureKind != "heatmap" && figureKind != "curve" && figureKind != "spectrum" && figureKind != "layers" &&
      figureKind != "position" && figureKind != "grid" && figureKind != "training")
    throw UsageError("--figure: expected heatmap, curve, spectrum, layers, position, grid or training, got '" +
                     figureKind + "'");
  if (inputs.size() > 1 && figureKind != "training")
    throw UsageError("--input: given " + std::to_string(inputs.size()) +
                     " times; only --figure training takes several (their mean)");
  const std::string measure = a.get("--measure", "tolerance");
  if (measure != "tolerance" && measure != "entropy" && measure != "utilization")
    throw UsageError("--measure: expected tolerance, entropy or utilization, got '" + measure + "'");
  if (a.has("--measure") && figureKind != "training") throw UsageError("--measure applies to --figure training only");
  if (figureKind == "training" && (a.has("--split") || a.has("--head")))
    throw UsageError("--figure training draws layer totals at every split: --split and --head do not apply");
  const bool compare = a.has("--compare"), diff = a.has("--diff");
  if (diff && (!compare || figureKind != "heatmap"))
    throw UsageError("--diff draws T_B - T_A: it takes --figure heatmap and --compare B");
  if (compare && figureKind != "curve" && figureKind != "position" && figureKind != "layers" && !diff)
    throw UsageError("--compare applies to --figure curve, position, layers and heatmap --diff");
  if (compare) refuseOutputOverInput(a.get("-o"), a.get("--compare"));
  const std::string panelKind = a.get("--panel", "heatmap");
  if (panelKind != "heatmap" && panelKind != "curve")
    throw UsageError("--panel: expected heatmap or curve, got '" + panelKind + "'");
  if (a.has("--panel") && figureKind != "grid") throw UsageError("--panel applies to --figure grid only");
  // Figures that draw operators: they take the colour options.
  const bool drawsOperator = figureKind == "heatmap" || (figureKind == "grid" && panelKind == "heatmap");
  const QString out = QString::fromStdString(a.get("-o"));
  figure::Format format;
  // The training figure writes its numbers too (-o OUT.csv: panel,series,step,value).
  if (!figure::formatFromPath(out, &format) || (format == figure::Format::Csv && figureKind != "training"))
    throw UsageError("-o: expected a .png, .pdf or .svg file" +
                     std::string(figureKind == "training" ? " (or .csv)" : "") + ", got '" + a.get("-o") + "'");
  const std::string scale = a.get("--scale", "linear");
  if (scale != "linear" && scale != "log") throw UsageError("--scale: expected linear or log, got '" + scale + "'");
  FigureStyle style;
  const std::string styleName = a.get("--style", "screen");
  if (!FigureStyle::presetFromName(QString::fromStdString(styleName), &style.preset))
    throw UsageError("--style: expected screen or paper, got '" + styleName + "'");
  const bool paper = style.preset == FigureStyle::Preset::Paper;
  // Colours (heatmap): the map, its range, the masked upper triangle.
  const std::string mapName = a.get("--colormap", "auto");
  colormaps::Map colorMap = colormaps::Map::Viridis;
  if (mapName != "auto" && !colormaps::fromName(QString::fromStdString(mapName), &colorMap))
    throw UsageError("--colormap: expected auto, viridis, magma, cividis or diverging, got '" + mapName + "'");
  HeatmapView::ColorRange colorRange;
  {
    QString why;
    // T_B - T_A: white at 0, as far either way (unless told otherwise).
    if (!HeatmapView::ColorRange::parse(QString::fromStdString(a.get("--range", diff ? "symmetric" : "auto")),
                                        &colorRange, &why))
      throw UsageError("--range: " + why.toStdString());
  }
  if (diff && !a.has("--colormap")) colorMap = colormaps::Map::Diverging;
  const bool autoMap = mapName == "auto" && !diff;
  if ((a.has("--colormap") || a.has("--range") || a.has("--mask-upper")) && !drawsOperator)
    throw UsageError("--colormap, --range and --mask-upper apply to --figure heatmap and grid (--panel heatmap) only");
  // Paper figures leave the title to the caption.
  const std::string titleText = a.get("--title", paper ? "none" : "auto");
  style.title = titleText == "auto"   ? FigureStyle::Title::Auto
                : titleText == "none" ? FigureStyle::Title::None
                                      : FigureStyle::Title::Custom;
  style.titleText = QString::fromStdString(titleText);
  if (a.has("--font-size")) {
    style.fontSize = a.getDouble("--font-size", 0);
    if (!(style.fontSize >= 4 && style.fontSize <= 48))
      throw UsageError("--font-size: expected 4..48 points, got '" + a.get("--font-size") + "'");
  }
  if (a.has("--font-family")) {
    style.fontFamily = QString::fromStdString(a.get("--font-family"));
    if (style.fontFamily.trimmed().isEmpty()) throw UsageError("--font-family: expected a font family name");
  }
  figure::ExportOptions exportOptions;
  exportOptions.dpi = a.getDouble("--dpi", paper ? 300.0 : 96.0);
  if (!(exportOptions.dpi >= figure::kMinDpi && exportOptions.dpi <= figure::kMaxDpi))
    throw UsageError("--dpi: expected " + std::to_string(int(figure::kMinDpi)) + ".." +
                     std::to_string(int(figure::kMaxDpi)) + " dots per inch, got '" + a.get("--dpi") + "'");
  // Sizes: a length with a unit (in, cm, mm, pt, px; a bare number is pixels at --dpi), in
  // the output's units (PNG pixels, PDF/SVG points). No height: the figure's own aspect.
  const auto length = [&](const std::string& flag, const char* fallback) -> figure::Length {
    figure::Length l;
    QString why;
    if (!figure::parseLength(QString::fromStdString(a.get(flag, fallback)), &l, &why))
      throw UsageError(flag + ": " + why.toStdString());
    const double inches = l.inches(exportOptions.dpi);
    if (!(inches >= figure::kMinInches && inches <= figure::kMaxInches))
      throw UsageError(flag + " " + a.get(flag, fallback) + " is " + QString::number(inches, 'g', 3).toStdString() +
                       " in at " + a.get("--dpi", paper ? "300" : "96") + " dpi: expected 0.75..100 in");
    if (format == figure::Format::Png && l.toOutputUnits(format, exportOptions.dpi) > figure::kMaxPixels)
      throw UsageError(flag + " " + a.get(flag, fallback) + " is over 20000 pixels at this --dpi");
    return l;
  };
  exportOptions.width =
      int(std::lround(length("--width", paper ? "3.25in" : "900px").toOutputUnits(format, exportOptions.dpi)));
  if (a.has("--height")) {
    exportOptions.height = int(std::lround(length("--height", "").toOutputUnits(format, exportOptions.dpi)));
  }  // else the figure's own: PlotView::tightHeight or aspect (figure::resolvedSize)
  // Options that only some figures use are refused elsewhere rather than ignored.
  if (a.has("--mark") && figureKind != "position") throw UsageError("--mark applies to --figure position only");
  const EssOptions options = essOptionsFrom(a);

  if (figureKind == "training") {
    const TrainingRun run = openTrainingRun(a.positional[0]);
    if (!run.metricsNote.empty()) std::fprintf(stderr, "note: %s\n", run.metricsNote.c_str());
    Args perCheckpoint = a;
    perCheckpoint.options.erase("--input");  // set per input on the open session
    const TrainingData d = trainingData(run, perCheckpoint, inputs, measure, options);
    const auto app = startQt();
    auto v = std::make_unique<TrainingFigureView>();
    const QString name = QString::fromStdString(run.path).section('/', -1, -1, QString::SectionSkipEmpty);
    v->setData(d.ess, d.essLabel, d.metrics,
               name + QStringLiteral(": ") + (measure == "utilization" ? QStringLiteral("utilization") : d.essLabel) +
                   QStringLiteral(" per layer over training"));
    QString error;
    if (format != figure::Format::Csv)
      writeFigure(v.get(), style, format, exportOptions, out);
    else if (!figure::save(v.get(), out, exportOptions, &error))  // the numbers drawn
      throw InputError(error.toStdString());
    return 0;
  }

  auto session = openWithInput(a.positional[0], a);
  const SourceInfo& info = session->info();
  if (info.layers.empty()) throw InputError(info.path + ": holds no operator or model layers");
  std::unique_ptr<Session> other;
  // Short names, or the paths as given when both end alike (two runs' step-100).
  QString nameA = QString::fromStdString(checkpointName(a.positional[0])), nameB;
  // The `step` column of compare CSVs: from a checkpoint-<N> / step-<N> name, else unknown.
  const qint64 stepA = stepFromCheckpointName(checkpointName(a.positional[0]));
  const qint64 stepB = compare ? stepFromCheckpointName(checkpointName(a.get("--compare"))) : -1;
  if (compare) {
    other = openWithInput(a.get("--compare"), a);
    nameB = QString::fromStdString(checkpointName(a.get("--compare")));
    if (nameA == nameB)
      nameA = QString::fromStdString(a.positional[0]), nameB = QString::fromStdString(a.get("--compare"));
    const auto lengthOf = [](Session& s) {
      return s.info().length > 0 ? s.info().length : static_cast<int>(s.tokens().size());
    };
    const std::string mismatch = layoutMismatch(info, lengthOf(*session), nameA.toStdString(), other->info(),
                                                lengthOf(*other), nameB.toStdString());
    if (!mismatch.empty()) throw InputError(mismatch);
  }
  if (figureKind == "grid") {
    const GridSelection grid = gridSelection(a, info, *session);
    const auto app = startQt();
    {
      auto v = std::make_unique<GridFigureView>();
      const GridFigureView::Kind kind =
          panelKind == "curve" ? GridFigureView::Kind::Curve : GridFigureView::Kind::Heatmap;
      const QVector<GridPanel> panels =
          viewdata::gridPanels(*session, grid.layers, grid.heads, kind, options,
                               std::clamp(exportOptions.width / std::max<int>(1, grid.columns), 64, 1024));
      const QString title = QString::fromStdString(info.path).section('/', -1) +
                            (kind == GridFigureView::Kind::Curve ? QStringLiteral(": ESS per layer and head")
                                                                 : QStringLiteral(": operator T per layer and head"));
      if (kind == GridFigureView::Kind::Curve) {
        v->setCurves(panels, title);
      } else {
        GridFigureView::HeatmapStyle hs;
        hs.scale = scale == "log" ? HeatmapView::Scale::Log10 : HeatmapView::Scale::Linear;
        hs.autoMap = autoMap;
        hs.map = colorMap;
        hs.range = colorRange;
        hs.maskUpper = a.has("--mask-upper");
        v->setHeatmaps(panels, hs, title);
      }
      writeFigure(v.get(), style, format, exportOptions, out);
    }
    return 0;
  }
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

  const auto app = startQt();

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
      if (compare) {
        std::vector<CurveData> others;
        for (const auto& l : info.layers) others.push_back(other->curve(l.index, options));
        std::vector<const CurveData*> otherPointers;
        for (const CurveData& c : others) otherPointers.push_back(&c);
        const QVector<PositionRow> b = viewdata::layerTotalRows(other->info(), otherPointers);
        for (int r = 0; r < rows.size() && r < b.size(); ++r) rows[r].compare = b[r].series;
      }
    } else {
      // One checkpoint's row: the selection's total or head.
      const auto seriesOf = [&](Session& s) {
        const CurveData c = s.curve(layer, options);
        return aggregate ? viewdata::totalSeries(sumHeads(c, s.info().layers[layer], members), what)
                         : viewdata::series(c, head);
      };
      rows.append({layer, seriesOf(*session)});
      if (compare) rows[0].compare = seriesOf(*other);
      title = QStringLiteral("ESS over position: ") + where;
    }
    if (compare) {
      for (PositionRow& row : rows) {
        row.series.checkpoint = nameA, row.compare.checkpoint = nameB;
        row.series.step = stepA, row.compare.step = stepB;
      }
      title += QStringLiteral(", A = %1, B = %2").arg(nameA, nameB);
    }
    v->setRows(rows, tokens, title);
    viewdata::markMqarRoles(*v, session->input(), info);
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
    if (compare) {
      QVector<LayerTotals> totals;
      for (const auto& l : other->info().layers) totals << viewdata::layerTotals(other->curve(l.index, options), l);
      v->setCompareTotals(totals, nameA, nameB, stepA, stepB);
      v->setTitle(
          QStringLiteral("Layer totals (mean over splits), A = %1 beside B = %2; per head: A").arg(nameA, nameB));
    }
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
    if (diff && tiled)
      throw InputError(info.path + ": --diff needs the dense operators, and layer " + std::to_string(layer) +
                       " is drawn from tiles (over --memory-budget)");
    if (diff && aggregate) throw UsageError("--diff draws one head: --head H");
    if (diff) {
      const OperatorData opA = session->operatorOf(layer), opB = other->operatorOf(layer);
      auto v = std::make_unique<HeatmapView>();
      v->setSplitPoint(&split);
      v->setScale(scale == "log" ? HeatmapView::Scale::Log10 : HeatmapView::Scale::Linear);
      v->setColorMap(autoMap, colorMap);
      v->setColorRange(colorRange);
      v->setMaskUpper(a.has("--mask-upper"));
      v->setOperator(opA.length, viewdata::headDifference(opA, opB, head),
                     QStringLiteral("T_B - T_A: ") + where + QStringLiteral("\nA = %1, B = %2").arg(nameA, nameB));
      view = std::move(v);
    } else if (figureKind == "heatmap" && tiled) {
      auto v = std::make_unique<HeatmapView>();
      v->setSplitPoint(&split);
      v->setScale(scale == "log" ? HeatmapView::Scale::Log10 : HeatmapView::Scale::Linear);
      v->setColorMap(autoMap, colorMap);
      v->setColorRange(colorRange);
      v->setMaskUpper(a.has("--mask-upper"));
      TileRequest req;
      req.maxRows = req.maxColumns = std::clamp(std::max(exportOptions.width, exportOptions.height), 256, 4096);
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
      v->setColorMap(autoMap, colorMap);
      v->setColorRange(colorRange);
      v->setMaskUpper(a.has("--mask-upper"));
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
      const auto seriesOf = [&](Session& s, const QString& name, qint64 step) {
        const CurveData c = s.curve(layer, options);
        EssSeries series = aggregate ? viewdata::totalSeries(sumHeads(c, s.info().layers[layer], members), what)
                                     : viewdata::series(c, head);
        if (!name.isEmpty()) series.name = series.checkpoint = name;
        series.step = step;
        return series;
      };
      if (compare)
        v->setSeries({seriesOf(*session, nameA, stepA), seriesOf(*other, nameB, stepB)},
                     QStringLiteral("ESS: ") + where + QStringLiteral(", A vs B"));
      else
        v->setSeries({seriesOf(*session, QString(), -1)}, QStringLiteral("ESS: ") + where);
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
  writeFigure(view.get(), style, format, exportOptions, out);
  return 0;
}
#endif

}  // namespace ess::cli
