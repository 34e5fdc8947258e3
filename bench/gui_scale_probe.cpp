// The GUI at model scale (issue 16 item 5): the ESS Explorer window (the essgui library, as
// ess-explorer links it; the model library is loaded when the folder opens) on a large checkpoint,
// with the times from the process start to what the user sees, printed as "<event> t=<s>":
//   opened            the folder opened (weights checked, shapes read)
//   heatmap shown     layer 0's heatmap drawn (head 0, the first selection)
//   curve shown       its ESS curve drawn (the strided preview when L > 257)
//   full curve        layer 0's curve at every split
//   layer N chosen    the last layer chosen (as a click in the layer tree does)
//   busy shown        the status bar says what it computes for it (with a Cancel button)
//   progress shown    the status bar's progress moved for it
//   layer N heatmap   its heatmap drawn
//   layers first / layers last   the Layers tab's first and last layer curves
// and, while layer N and the Layers tab compute, the longest gap between two ticks of a 20 ms
// event-loop timer ("longest event-loop gap"): how long the window did not answer. A window error
// ends the probe (exit 1). Run by bench/bench_gui_scale.sh under Xvfb.
// Usage: gui_scale_probe FOLDER [--input SPEC] [--layers-for SECONDS]
//   --layers-for  stop the Layers tab after SECONDS (default: until every layer is in)
#include <unistd.h>

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QTimer>
#include <cstdio>
#include <cstdlib>

#include "document.h"
#include "ess_curve_view.h"
#include "heatmap_view.h"
#include "main_window.h"
#include "selection.h"

namespace {

/// Seconds from this process's start to the probe's main(): /proc/self/stat field 22 (start
/// time in clock ticks after boot) against /proc/uptime.
double secondsBeforeMain() {
  QFile stat(QStringLiteral("/proc/self/stat")), up(QStringLiteral("/proc/uptime"));
  if (!stat.open(QIODevice::ReadOnly) || !up.open(QIODevice::ReadOnly)) return 0;
  const QByteArray s = stat.readAll();
  const QList<QByteArray> fields = s.mid(s.lastIndexOf(')') + 2).split(' ');  // from field 3 on
  const double start = fields.size() > 19 ? fields[19].toDouble() / double(::sysconf(_SC_CLK_TCK)) : 0;
  return std::max(0.0, up.readAll().split(' ').value(0).toDouble() - start);
}

/// Peak resident memory (VmHWM) in GiB.
double peakRssGiB() {
  QFile f(QStringLiteral("/proc/self/status"));
  if (!f.open(QIODevice::ReadOnly)) return 0;
  for (const QByteArray& line : f.readAll().split('\n'))
    if (line.startsWith("VmHWM:")) return line.mid(6).trimmed().split(' ').value(0).toDouble() / (1024.0 * 1024.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const double before = secondsBeforeMain();
  QElapsedTimer clock;
  clock.start();
  QApplication app(argc, argv);
  Q_INIT_RESOURCE(resources);
  QApplication::setApplicationName(QStringLiteral("ESS Explorer gui_scale_probe"));
  const QStringList args = QApplication::arguments();
  if (args.size() < 2) {
    std::fprintf(stderr, "usage: gui_scale_probe FOLDER [--input SPEC] [--layers-for SECONDS]\n");
    return 2;
  }
  const QString path = args[1];
  const int inputAt = int(args.indexOf(QStringLiteral("--input")));
  const QString input = inputAt > 0 && inputAt + 1 < args.size() ? args[inputAt + 1] : QString();
  const int layersAt = int(args.indexOf(QStringLiteral("--layers-for")));
  const double layersFor = layersAt > 0 && layersAt + 1 < args.size() ? args[layersAt + 1].toDouble() : 0;

  const auto now = [&] { return before + double(clock.nsecsElapsed()) * 1e-9; };
  const auto event = [&](const QString& what) {
    std::printf("%-28s t=%.2f s\n", qPrintable(what), now());
    std::fflush(stdout);
  };

  MainWindow w;
  w.setErrorPresenter([&](const QString&, const QString& message) {
    std::fprintf(stderr, "gui_scale_probe: window error: %s\n", qPrintable(message));
    std::exit(1);
  });
  w.resize(1400, 900);
  w.show();
  Document* doc = w.document();

  enum class Phase { Open, Layer0, LastLayer, Layers, Done } phase = Phase::Open;
  int last = 0, layersIn = 0;
  double gap = 0, lastTick = 0, layersStart = 0;
  bool inputSet = input.isEmpty(), operator0 = false, curveIn0 = false;
  bool heatmap0 = false, curve0 = false, full0 = false, progress = false;
  int layersWanted = 0;

  QObject::connect(doc, &Document::opened, &w, [&] {
    event(QStringLiteral("opened"));
    last = doc->layerCount() - 1;
    if (!input.isEmpty() && doc->info().needsInput)
      doc->setInput(input);
    else
      inputSet = true;
    phase = Phase::Layer0;
  });
  QObject::connect(doc, &Document::inputChanged, &w, [&](const QString& spec) {
    if (phase == Phase::Layer0 && spec == input) inputSet = true;
  });
  QObject::connect(doc, &Document::operatorReady, &w, [&](int layer) {
    if (phase == Phase::Layer0 && inputSet && layer == 0) operator0 = true;
  });
  bool busy = false;
  QObject::connect(doc, &Document::busyChanged, &w, [&](bool on, const QString& what) {
    if (phase == Phase::LastLayer && on && !busy) {
      busy = true;
      event(QStringLiteral("busy shown (%1)").arg(what));
    }
  });
  QObject::connect(doc, &Document::progressChanged, &w, [&] {
    if (phase == Phase::LastLayer && !progress) {
      progress = true;
      event(QStringLiteral("progress shown"));
    }
  });
  QObject::connect(doc, &Document::curveReady, &w, [&](int layer, bool complete) {
    if (phase == Phase::Layer0 && inputSet && layer == 0) curveIn0 = true;
    if (phase == Phase::Layer0 && inputSet && layer == 0 && complete && !full0) {
      full0 = true;
      event(QStringLiteral("full curve"));
    }
    if (phase == Phase::Layers && complete) {
      if (++layersIn == 1) event(QStringLiteral("layers first (layer %1)").arg(layer));
      if (layersIn == layersWanted) {
        event(QStringLiteral("layers last (layer %1)").arg(layer));
        phase = Phase::Done;
      }
    }
  });

  // Polls what the views show, and measures the event loop's gaps.
  QTimer tick;
  tick.setInterval(20);
  QObject::connect(&tick, &QTimer::timeout, &w, [&] {
    const double t = now();
    if (lastTick > 0 && (phase == Phase::LastLayer || phase == Phase::Layers)) gap = std::max(gap, t - lastTick);
    lastTick = t;
    if (phase == Phase::Layer0) {
      if (!heatmap0 && operator0 && w.heatmapView()->length() == doc->sequenceLength()) {
        heatmap0 = true;
        event(QStringLiteral("heatmap shown (L %1)").arg(w.heatmapView()->length()));
      }
      if (!curve0 && curveIn0 && !w.curveView()->series().isEmpty()) {
        curve0 = true;
        event(QStringLiteral("curve shown"));
      }
      if (heatmap0 && curve0 && full0) {
        phase = Phase::LastLayer;
        gap = 0;
        w.selectHead(last, 0);
        event(QStringLiteral("layer %1 chosen").arg(last));
      }
    } else if (phase == Phase::LastLayer) {
      if (w.selection()->layer() == last && doc->operatorData(last) &&
          w.heatmapView()->length() == doc->sequenceLength()) {
        event(QStringLiteral("layer %1 heatmap").arg(last));
        std::printf("longest event-loop gap      %.2f s (layer %d)\n", gap, last);
        gap = 0;
        phase = Phase::Layers;
        layersStart = t;
        for (int l = 0; l < doc->layerCount(); ++l) {  // the layers without a full curve yet
          const ess::CurveData* c = doc->curveData(l);
          layersWanted += !c || (c->splits.size() > 1 && c->splits[1] - c->splits[0] > 1);
        }
        std::printf("layers to compute           %d\n", layersWanted);
        w.showLayerComparison();
        event(QStringLiteral("layers tab shown"));
      }
    } else if (phase == Phase::Layers && layersFor > 0 && t - layersStart > layersFor) {
      event(QStringLiteral("layers stopped (%1 of %2 in)").arg(layersIn).arg(doc->layerCount()));
      phase = Phase::Done;
    }
    if (phase == Phase::Done) {
      std::printf("longest event-loop gap      %.2f s (Layers tab)\n", gap);
      std::printf("peak RSS                    %.2f GiB\n", peakRssGiB());
      std::fflush(stdout);
      doc->cancel();
      std::_Exit(0);  // the computations are done or cancelled; nothing to save
    }
  });
  tick.start();
  QTimer::singleShot(0, &w, [&] { w.openPath(path); });
  return app.exec();
}
