// Rendering tests: every figure kind at four physical sizes (2, 3.25, 6.75 and 7 in) and three
// DPIs, in the screen and paper styles. The PNG has exactly the pixels asked for; every text
// item (title, tick labels, axis titles, legend entries, item labels) lies inside the image and
// no two overlap; a legend in a layout row covers no plot; the image's outermost pixels are
// background (nothing cut at an edge); PDF pages are exactly the points asked for (MediaBox);
// SVG files parse and state the size asked for. ESS_FIGURE_DUMP=DIR keeps the PNGs to look at.
#include <QFile>
#include <QImage>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QXmlStreamReader>
#include <QtTest>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>

#include "ess/session.h"
#include "ess_curve_view.h"
#include "figure_export.h"
#include "grid_figure_view.h"
#include "grid_panels.h"
#include "heatmap_view.h"
#include "layer_comparison_view.h"
#include "position_ess_view.h"
#include "qcustomplot.h"
#include "spectrum_view.h"
#include "split_point.h"
#include "training_figure_view.h"

namespace {

struct Figure {
  QString kind;
  std::unique_ptr<PlotView> view;
  std::unique_ptr<SplitPoint> split;
};

EssSeries series(int L, const QString& name) {
  EssSeries s;
  s.name = name;
  for (int i = 1; i < L; ++i) {
    s.splits.append(i);
    s.tolerance.append(std::min(i, L - i));
    s.entropy.append(0.6 * std::min(i, L - i));
    s.tss.append(24.0);  // above the curves: the y range must include it
  }
  return s;
}

// Small multiples of 2 layers x 3 heads: decaying operators (head h decays as 0.5 + 0.2 h, layer
// l scales by 1 + l) or their ESS curves.
QVector<GridPanel> gridPanels(int L, bool curves) {
  QVector<GridPanel> panels;
  for (int layer = 0; layer < 2; ++layer)
    for (int head = 0; head < 3; ++head) {
      GridPanel p;
      p.row = layer, p.column = head, p.layer = layer, p.head = head;
      p.title = QStringLiteral("layer %1, head %2").arg(layer).arg(head);
      p.shortTitle = QStringLiteral("L%1 H%2").arg(layer).arg(head);
      if (curves) {
        p.series = series(L, QStringLiteral("head %1").arg(head));
      } else {
        p.length = L;
        p.tile.rows = p.tile.columns = L;
        p.tile.values.fill(0.0, L * L);
        for (int r = 0; r < L; ++r)
          for (int c = 0; c <= r; ++c) p.tile.values[r * L + c] = (1 + layer) * std::pow(0.5 + 0.2 * head, r - c);
      }
      panels.append(p);
    }
  return panels;
}

Figure makeFigure(const QString& kind) {
  const int L = 64;
  Figure f;
  f.kind = kind;
  f.split = std::make_unique<SplitPoint>();
  f.split->setLength(L);
  f.split->setSplit(63);  // the last split: its cursor label sits at the right edge
  const QString where = QStringLiteral("softmax_attention_h2_L64.safetensors, layer 0 (softmax_attention), head 1");
  if (kind == "heatmap") {
    auto v = std::make_unique<HeatmapView>();
    QVector<double> t(L * L, 0.0);
    for (int r = 0; r < L; ++r)
      for (int c = 0; c <= r; ++c) t[r * L + c] = std::pow(0.9, r - c);
    v->setSplitPoint(f.split.get());
    v->setOperator(L, t, QStringLiteral("operator T: ") + where);
    f.view = std::move(v);
  } else if (kind == "curve") {
    auto v = std::make_unique<EssCurveView>();
    v->setSplitPoint(f.split.get());
    v->setSeries({series(L, "head 1")}, QStringLiteral("ESS: ") + where);
    f.view = std::move(v);
  } else if (kind == "spectrum") {
    auto v = std::make_unique<SpectrumView>();
    v->setSplitPoint(f.split.get());
    QVector<double> sigma;
    for (int k = 0; k < 20; ++k) sigma.append(std::pow(10.0, -k));  // 20 decades
    v->setSpectrum(20, sigma, SpectrumCut{1e-3, 3}, where);         // the threshold and count drawn
    f.view = std::move(v);
  } else if (kind == "grid" || kind == "gridcurve") {
    auto v = std::make_unique<GridFigureView>();
    if (kind == "grid")
      v->setHeatmaps(gridPanels(32, false), {}, QStringLiteral("demo: operator T per layer and head"));
    else
      v->setCurves(gridPanels(32, true), QStringLiteral("demo: ESS per layer and head"));
    f.view = std::move(v);
  } else if (kind == "training") {
    // Two layers over 17 checkpoints of 800 steps, the loss, mean loss and accuracy logged.
    auto v = std::make_unique<TrainingFigureView>();
    QVector<TrainingSeries> ess = {{"layer 0 (gla)", {}, {}}, {"layer 1 (gla)", {}, {}}};
    QVector<TrainingSeries> metrics = {{"accuracy", {}, {}}, {"loss", {}, {}}, {"mean_loss", {}, {}}};
    for (int step = 0; step <= 800; step += 50) {
      for (int l = 0; l < 2; ++l) {
        ess[l].steps.append(step);
        ess[l].values.append(150.0 + 250.0 * (1 + l) * (1 - std::exp(-step / 200.0)));
      }
      for (TrainingSeries& m : metrics) m.steps.append(step);
      metrics[0].values.append(0.03 + 0.9 * (1 - std::exp(-step / 300.0)));
      metrics[1].values.append(4.2 * std::exp(-step / 250.0) + 0.1);
      metrics[2].values.append(4.0 * std::exp(-step / 250.0) + 0.15);
    }
    v->setData(ess, "mean tolerance-ESS", metrics, "runs/gla: mean tolerance-ESS per layer over training");
    f.view = std::move(v);
  } else if (kind == "layers") {
    auto v = std::make_unique<LayerComparisonView>();
    v->setData({"0: gla", "1: short_conv"}, {{3.0, 4.0}, {1.0, 2.0, 2.5}}, "mean tolerance-ESS",
               "demo: layer totals (mean over splits) and mean tolerance-ESS per head or channel group",
               {{"0", "1"}, {"channels 0-1", "channels 2-3", "channels 4-5"}});
    v->setTotals(
        {{"0: gla", 224.0, 100.5, 2048.0, 0.109375}, {"1: short_conv", 11.0, 9.0, std::nan(""), std::nan("")}});
    f.view = std::move(v);
  } else {
    auto v = std::make_unique<PositionEssView>();
    QStringList tokens;
    for (int i = 0; i < L; ++i) tokens << (i % 8 == 7 ? QStringLiteral("\n") : QStringLiteral("tok%1").arg(i));
    v->setRows({{0, series(L, "layer total")}, {1, series(L, "layer total")}}, tokens,
               QStringLiteral("demo: ESS over position, every layer's total"));
    v->setMarkedTokens({"\n"});
    f.view = std::move(v);
  }
  return f;
}

// The rectangle (layout units) `text` takes when drawn with `flags` around `anchor`.
QRectF textRect(const QFont& font, const QString& text) {
  return QFontMetricsF(font).boundingRect(QRectF(), Qt::TextDontClip | Qt::AlignCenter, text);
}

struct TextBox {
  QString what;
  QRectF rect;
};

// Every text the figure draws, where QCustomPlot's layout put it.
QVector<TextBox> textBoxes(PlotView* plot) {
  QVector<TextBox> boxes;
  for (QCPLayoutElement* e : plot->plotLayout()->elements(true))
    if (auto* t = qobject_cast<QCPTextElement*>(e); t && t->visible() && !t->text().isEmpty()) {
      QRectF r = textRect(t->font(), t->text());
      r.moveCenter(QRectF(t->rect()).center());
      boxes.append({"title '" + t->text().left(30) + "'", r});
    }
  QList<QCPAxis*> axes;
  for (QCPAxisRect* rect : plot->axisRects()) axes += rect->axes();
  for (QCPLayoutElement* e : plot->plotLayout()->elements(true))
    if (auto* scale = qobject_cast<QCPColorScale*>(e)) axes << scale->axis();
  for (QCPAxis* a : axes) {
    if (!a->visible() || !a->axisRect()->visible()) continue;
    const QRect ar = a->axisRect()->rect();
    const bool horizontal = a->orientation() == Qt::Horizontal;
    double extent = 0;  // how far the tick labels reach out from the axis
    if (a->tickLabels()) {
      const QVector<double> ticks = a->tickVector();
      const QVector<QString> labels = a->tickVectorLabels();
      for (int i = 0; i < ticks.size() && i < labels.size(); ++i) {
        if (labels[i].isEmpty() || !a->range().contains(ticks[i])) continue;
        QRectF r = textRect(a->tickLabelFont(), labels[i]);
        const double at = a->coordToPixel(ticks[i]);
        const double out = a->offset() + std::max(0, a->tickLengthOut()) + a->tickLabelPadding();
        switch (a->axisType()) {
          case QCPAxis::atBottom:
            r.moveCenter(QPointF(at, ar.bottom() + out + r.height() / 2));
            break;
          case QCPAxis::atTop:
            r.moveCenter(QPointF(at, ar.top() - out - r.height() / 2));
            break;
          case QCPAxis::atLeft:
            r.moveCenter(QPointF(ar.left() - out - r.width() / 2, at));
            break;
          case QCPAxis::atRight:
            r.moveCenter(QPointF(ar.right() + out + r.width() / 2, at));
            break;
        }
        extent = std::max(extent, out + (horizontal ? r.height() : r.width()));
        boxes.append({QStringLiteral("tick label '%1' of %2").arg(labels[i], a->label()), r});
      }
    }
    if (!a->label().isEmpty()) {
      QRectF r = textRect(a->labelFont(), a->label());
      if (!horizontal) r = QRectF(0, 0, r.height(), r.width());  // drawn rotated
      const QPointF c = QRectF(ar).center();
      const double out = extent + a->labelPadding();
      switch (a->axisType()) {
        case QCPAxis::atBottom:
          r.moveCenter(QPointF(c.x(), ar.bottom() + out + r.height() / 2));
          break;
        case QCPAxis::atTop:
          r.moveCenter(QPointF(c.x(), ar.top() - out - r.height() / 2));
          break;
        case QCPAxis::atLeft:
          r.moveCenter(QPointF(ar.left() - out - r.width() / 2, c.y()));
          break;
        case QCPAxis::atRight:
          r.moveCenter(QPointF(ar.right() + out + r.width() / 2, c.y()));
          break;
      }
      boxes.append({"axis title '" + a->label() + "'", r});
    }
  }
  // Legend entries (icon and text).
  for (QCPLayoutElement* e : plot->plotLayout()->elements(true))
    if (auto* l = qobject_cast<QCPLegend*>(e); l && l->visible())
      for (int i = 0; i < l->itemCount(); ++i)
        if (auto* item = qobject_cast<QCPPlottableLegendItem*>(l->item(i)); item && item->visible())
          // At least a line high: an entry squeezed to no height still draws its text.
          boxes.append({"legend entry '" + item->plottable()->name() + "'",
                        QRectF(item->rect())
                            .adjusted(0, 0, 0, std::max(0, QFontMetrics(l->font()).height() - item->rect().height()))});
  for (int i = 0; i < plot->itemCount(); ++i) {
    auto* t = qobject_cast<QCPItemText*>(plot->item(i));
    if (!t || !t->visible() || t->text().isEmpty()) continue;
    // Labels clipped to their axis rect are cut there on purpose (cell values in a grid).
    const QRectF clip = t->clipToAxisRect() && t->clipAxisRect() ? QRectF(t->clipAxisRect()->rect()) : QRectF();
    QRectF r = textRect(t->font(), t->text()).marginsAdded(QMarginsF(t->padding()));
    const QPointF p = t->position->pixelPosition();
    const Qt::Alignment al = t->positionAlignment();
    const double x = al & Qt::AlignLeft ? p.x() : al & Qt::AlignRight ? p.x() - r.width() : p.x() - r.width() / 2;
    const double y = al & Qt::AlignTop ? p.y() : al & Qt::AlignBottom ? p.y() - r.height() : p.y() - r.height() / 2;
    r.moveTopLeft(QPointF(x, y));
    if (!clip.isNull() && !clip.contains(r)) continue;
    boxes.append({"label '" + t->text() + "'", r});
  }
  return boxes;
}

// Texts cut short where they are drawn: a legend entry's name wider than the room its item
// leaves beside the icon, or an axis or colour-bar title that its wrapping had to cut (an
// ellipsis that the full title does not have).
QStringList cutTexts(PlotView* plot) {
  QStringList cut;
  for (QCPLayoutElement* e : plot->plotLayout()->elements(true))
    if (auto* l = qobject_cast<QCPLegend*>(e); l && l->visible())
      for (int i = 0; i < l->itemCount(); ++i)
        if (auto* item = qobject_cast<QCPPlottableLegendItem*>(l->item(i)); item && item->visible()) {
          const QRect r = item->rect();
          const double room = r.width() - l->iconSize().width() - l->iconTextPadding();
          const QFontMetricsF fm(item->font());
          const QString name = item->plottable()->name();
          if (fm.horizontalAdvance(name) > room + 0.5 || fm.height() > r.height() + 0.5)
            cut << QStringLiteral("legend entry '%1' (%2 x %3 for its text, %4 x %5 needed)")
                       .arg(name)
                       .arg(room)
                       .arg(r.height())
                       .arg(fm.horizontalAdvance(name))
                       .arg(fm.height());
        }
  QList<QCPAxis*> axes;
  for (QCPAxisRect* rect : plot->axisRects()) axes += rect->axes();
  for (QCPLayoutElement* e : plot->plotLayout()->elements(true))
    if (auto* scale = qobject_cast<QCPColorScale*>(e)) axes << scale->axis();
  for (QCPAxis* a : axes)
    if (a->visible() && a->axisRect()->visible() && a->label().contains(QChar(0x2026)))
      cut << QStringLiteral("axis title '%1'").arg(QString(a->label()).replace('\n', ' '));
  return cut;
}

// Grid value labels sit on their cells and may be drawn over each other.
bool mayOverlap(const TextBox& a, const TextBox& b) {
  return a.what.startsWith("label '") && b.what.startsWith("label '") && !a.what.contains("util");
}

QSizeF pdfMediaBox(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  const QString text = QString::fromLatin1(f.readAll());
  const QRegularExpression re(
      QStringLiteral("/MediaBox\\s*\\[\\s*([-0-9.]+)\\s+([-0-9.]+)\\s+([-0-9.]+)\\s+([-0-9.]+)"));
  const auto m = re.match(text);
  if (!m.hasMatch()) return {};
  return {m.captured(3).toDouble() - m.captured(1).toDouble(), m.captured(4).toDouble() - m.captured(2).toDouble()};
}

// The SVG's stated width and height in points (QSvgGenerator writes millimetres).
QSizeF svgSizePoints(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  QXmlStreamReader xml(&f);
  QSizeF size;
  while (!xml.atEnd()) {
    xml.readNext();
    if (xml.isStartElement() && xml.name() == QLatin1String("svg") && size.isEmpty()) {
      const auto toPt = [](QString v) {
        if (v.endsWith("mm")) return v.chopped(2).toDouble() / 25.4 * 72.0;
        if (v.endsWith("pt")) return v.chopped(2).toDouble();
        return -1.0;
      };
      size =
          QSizeF(toPt(xml.attributes().value("width").toString()), toPt(xml.attributes().value("height").toString()));
    }
  }
  if (xml.hasError()) return {};
  return size;
}

}  // namespace

class TestFigureRender : public QObject {
  Q_OBJECT
 private slots:
  void textInsideAndApart_data();
  void textInsideAndApart();
  void vectorSizesExact();
  void heatmapIsTight();
  void paperTextHasPointSize();
  void lengthUnits();
  void divergingForSignedOperators();
  void vectorOpensElsewhere_data();
  void vectorOpensElsewhere();
  void gridSharesOneColourScale();
  void tiledZerosAndMaskAreNeutral();
  void positionRowsShareOneHeight();
  void gridOfFiles_data();
  void gridOfFiles();
  void narrowExportAfterAWideLayout();
};

void TestFigureRender::textInsideAndApart_data() {
  QTest::addColumn<QString>("kind");
  QTest::addColumn<double>("inches");
  QTest::addColumn<double>("dpi");
  QTest::addColumn<bool>("paper");
  for (const char* kind : {"heatmap", "curve", "spectrum", "layers", "position", "grid", "gridcurve", "training"})
    for (double inches : {2.0, 3.25, 6.75, 7.0})
      for (double dpi : {72.0, 150.0, 300.0})
        for (bool paper : {false, true})
          QTest::addRow("%s %.2fin %.0fdpi %s", kind, inches, dpi, paper ? "paper" : "screen")
              << QString(kind) << inches << dpi << paper;
  // A 4K screen image.
  QTest::addRow("heatmap 4K") << QString("heatmap") << 3840 / 96.0 << 96.0 << false;
  QTest::addRow("curve 4K") << QString("curve") << 3840 / 96.0 << 96.0 << false;
}

void TestFigureRender::textInsideAndApart() {
  QFETCH(QString, kind);
  QFETCH(double, inches);
  QFETCH(double, dpi);
  QFETCH(bool, paper);
  Figure f = makeFigure(kind);
  FigureStyle style;
  style.preset = paper ? FigureStyle::Preset::Paper : FigureStyle::Preset::Screen;
  f.view->setFigureStyle(style);
  figure::ExportOptions o;
  o.width = int(std::lround(inches * dpi));
  o.dpi = dpi;
  const QSize size = figure::resolvedSize(f.view.get(), figure::Format::Png, o);
  o.height = size.height();
  const QImage image = figure::renderImage(f.view.get(), o);
  QCOMPARE(image.size(), QSize(o.width, o.height));
  QCOMPARE(image.dotsPerMeterX(), int(std::lround(dpi / 0.0254)));
  // To look at them: ESS_FIGURE_DUMP=DIR writes every image tested there.
  if (const QString dump = qEnvironmentVariable("ESS_FIGURE_DUMP"); !dump.isEmpty())
    image.save(
        QStringLiteral("%1/%2_%3in_%4dpi_%5.png").arg(dump, kind).arg(inches).arg(dpi).arg(paper ? "paper" : "screen"));
  // Known: at 2 in the Layers figure (three legend rows, two panels and a colour scale under
  // them) needs up to 1.7 x its width in height.
  const bool tallThumbnail = inches < 2.5 && kind == "layers";
  QVERIFY2(o.height > 0.3 * o.width && o.height < (tallThumbnail ? 1.7 : 1.6) * o.width,
           qPrintable(QStringLiteral("%1 x %2 pixels").arg(o.width).arg(o.height)));

  // In layout units: the page the figure was laid out on (its physical size at the layout dpi).
  const QRectF page(0, 0, std::lround(o.width / dpi * layoutDpi()), std::lround(o.height / dpi * layoutDpi()));
  const QVector<TextBox> boxes = textBoxes(f.view.get());
  QVERIFY(boxes.size() >= 4);
  for (const TextBox& b : boxes)
    QVERIFY2(page.contains(b.rect), qPrintable(QStringLiteral("%1 at (%2, %3, %4 x %5) leaves the %6 x %7 figure")
                                                   .arg(b.what)
                                                   .arg(b.rect.x())
                                                   .arg(b.rect.y())
                                                   .arg(b.rect.width())
                                                   .arg(b.rect.height())
                                                   .arg(page.width())
                                                   .arg(page.height())));
  const QStringList cut = cutTexts(f.view.get());
  QVERIFY2(cut.isEmpty(), qPrintable("cut short: " + cut.join("; ")));
  for (int i = 0; i < boxes.size(); ++i)
    for (int j = i + 1; j < boxes.size(); ++j) {
      if (mayOverlap(boxes[i], boxes[j])) continue;
      const QRectF common = boxes[i].rect.adjusted(0.5, 0.5, -0.5, -0.5) & boxes[j].rect.adjusted(0.5, 0.5, -0.5, -0.5);
      const auto where = [](const QRectF& r) {
        return QStringLiteral(" (%1, %2, %3 x %4)").arg(r.x()).arg(r.y()).arg(r.width()).arg(r.height());
      };
      QVERIFY2(common.isEmpty(),
               qPrintable(boxes[i].what + where(boxes[i].rect) + " overlaps " + boxes[j].what + where(boxes[j].rect)));
    }
  // A legend outside the plots (a row of the layout) covers none of them.
  for (QCPLayoutElement* e : f.view->plotLayout()->elements(true))
    if (auto* l = qobject_cast<QCPLegend*>(e); l && l->visible() && !qobject_cast<QCPLayoutInset*>(l->layout()))
      for (QCPAxisRect* rect : f.view->axisRects())
        QVERIFY2(!QRectF(l->rect()).adjusted(0.5, 0.5, -0.5, -0.5).intersects(QRectF(rect->rect())),
                 "the legend covers a plot");
  // Nothing is drawn on the outermost pixels: no text or line runs off an edge.
  const QRgb white = qRgb(255, 255, 255);
  for (int x = 0; x < image.width(); ++x)
    for (int y : {0, image.height() - 1})
      QVERIFY2(image.pixel(x, y) == white,
               qPrintable(QStringLiteral("drawn at the edge pixel (%1, %2)").arg(x).arg(y)));
  for (int y = 0; y < image.height(); ++y)
    for (int x : {0, image.width() - 1})
      QVERIFY2(image.pixel(x, y) == white,
               qPrintable(QStringLiteral("drawn at the edge pixel (%1, %2)").arg(x).arg(y)));
}

void TestFigureRender::positionRowsShareOneHeight() {
  // The bottom row also holds the tick labels and the axis title; its plot is as tall as the
  // others all the same, at any size, and whatever size was laid out before.
  Figure f = makeFigure("position");
  for (bool paper : {false, true})
    for (double inches : {3.25, 7.0, 2.0, 3.25}) {
      FigureStyle style;
      style.preset = paper ? FigureStyle::Preset::Paper : FigureStyle::Preset::Screen;
      f.view->setFigureStyle(style);
      figure::ExportOptions o;
      o.width = int(std::lround(inches * 300));
      o.dpi = 300;
      o.height = figure::resolvedSize(f.view.get(), figure::Format::Png, o).height();
      QVERIFY(!figure::renderImage(f.view.get(), o).isNull());
      const QList<QCPAxisRect*> rects = f.view->axisRects();
      QCOMPARE(rects.size(), 2);
      QVERIFY2(std::abs(rects[0]->rect().height() - rects[1]->rect().height()) <= 1,
               qPrintable(QStringLiteral("%1 in %2: plots %3 and %4 high")
                              .arg(inches)
                              .arg(paper ? "paper" : "screen")
                              .arg(rects[0]->rect().height())
                              .arg(rects[1]->rect().height())));
      QVERIFY(rects[1]->rect().height() > 10);
    }
}

void TestFigureRender::vectorSizesExact() {
  QTemporaryDir dir;
  for (const QString& kind :
       {QString("heatmap"), QString("curve"), QString("spectrum"), QString("layers"), QString("position")})
    for (const QSize pt : {QSize(144, 110), QSize(234, 160), QSize(504, 300)}) {
      Figure f = makeFigure(kind);
      QString error;
      const QString base = dir.filePath(QStringLiteral("%1_%2").arg(kind).arg(pt.width()));
      QVERIFY2(figure::save(f.view.get(), base + ".pdf", {pt.width(), pt.height(), 300}, &error), qPrintable(error));
      const QSizeF box = pdfMediaBox(base + ".pdf");
      QVERIFY2(std::abs(box.width() - pt.width()) < 0.01 && std::abs(box.height() - pt.height()) < 0.01,
               qPrintable(QStringLiteral("%1: MediaBox %2 x %3").arg(base).arg(box.width()).arg(box.height())));
      QVERIFY2(figure::save(f.view.get(), base + ".svg", {pt.width(), pt.height(), 300}, &error), qPrintable(error));
      const QSizeF svg = svgSizePoints(base + ".svg");
      QVERIFY2(std::abs(svg.width() - pt.width()) < 0.5 && std::abs(svg.height() - pt.height()) < 0.5,
               qPrintable(QStringLiteral("%1: SVG %2 x %3 pt").arg(base).arg(svg.width()).arg(svg.height())));
      // Height 0: the figure's own height, also for vector output.
      QVERIFY2(figure::save(f.view.get(), base + "_auto.pdf", {pt.width(), 0, 300}, &error), qPrintable(error));
      QVERIFY(pdfMediaBox(base + "_auto.pdf").height() > 0.3 * pt.width());
    }
}

void TestFigureRender::heatmapIsTight() {
  // A square matrix: the tight height leaves no empty rows above or below it.
  for (double inches : {2.0, 3.25, 6.0}) {
    Figure f = makeFigure("heatmap");
    figure::ExportOptions o;
    o.width = int(inches * 300);
    o.dpi = 300;
    o.height = figure::resolvedSize(f.view.get(), figure::Format::Png, o).height();
    const QImage image = figure::renderImage(f.view.get(), o);
    QVERIFY(!image.isNull());
    const QRect matrix = f.view->axisRect()->rect();
    // Square, and the layout had no spare height (the squaring only ever removes height).
    QVERIFY2(std::abs(matrix.width() - matrix.height()) <= 1,
             qPrintable(QStringLiteral("%1 x %2").arg(matrix.width()).arg(matrix.height())));
    const int below = int(std::lround(o.height / 300.0 * layoutDpi())) - f.view->axisRect()->outerRect().bottom();
    QVERIFY2(below <= 3, qPrintable(QStringLiteral("%1 layout units below the matrix's margins").arg(below)));
    // The first rows of pixels below the top hold the title (not an empty band).
    int firstInk = -1;
    for (int y = 0; y < image.height() && firstInk < 0; ++y)
      for (int x = 0; x < image.width(); ++x)
        if (image.pixel(x, y) != qRgb(255, 255, 255)) {
          firstInk = y;
          break;
        }
    QVERIFY2(firstInk >= 0 && firstInk < 0.06 * image.height(), qPrintable(QString::number(firstInk)));
  }
}

void TestFigureRender::paperTextHasPointSize() {
  // 7.5 pt tick labels at 300 dpi are about 7.5 * 300 / 72 = 31 pixels from ascent to descent
  // (the font's height); in layout units 7.5 * layoutDpi / 72.
  Figure f = makeFigure("curve");
  FigureStyle style;
  style.preset = FigureStyle::Preset::Paper;
  f.view->setFigureStyle(style);
  f.view->replot();
  QCOMPARE(f.view->xAxis->tickLabelFont().pointSizeF(), 7.5);
  style.fontSize = 10;
  style.fontFamily = QStringLiteral("DejaVu Serif");
  f.view->setFigureStyle(style);
  QCOMPARE(f.view->xAxis->tickLabelFont().pointSizeF(), 10.0);
  QCOMPARE(f.view->xAxis->tickLabelFont().family(), QStringLiteral("DejaVu Serif"));
  // Titles and axis titles keep their proportion to the tick labels (screen: 10.5 and 10 to 9).
  QVERIFY(std::abs(f.view->xAxis->labelFont().pointSizeF() - 10.0 * 10.0 / 9.0) < 1e-9);
  // Applying a style twice changes nothing (design sizes are kept, not compounded).
  f.view->setFigureStyle(style);
  QVERIFY(std::abs(f.view->xAxis->labelFont().pointSizeF() - 10.0 * 10.0 / 9.0) < 1e-9);
  // Lines: the paper style's are thinner than the screen style's.
  const double paperPen = f.view->graph(0)->pen().widthF();
  f.view->setFigureStyle(FigureStyle());
  QVERIFY(f.view->graph(0)->pen().widthF() > paperPen);
}

void TestFigureRender::lengthUnits() {
  figure::Length l;
  QString error;
  QVERIFY(figure::parseLength("3.25in", &l, &error));
  QCOMPARE(l.toOutputUnits(figure::Format::Png, 300), 975.0);
  QCOMPARE(l.toOutputUnits(figure::Format::Pdf, 300), 234.0);
  QVERIFY(figure::parseLength("2.54cm", &l, &error));
  QVERIFY(std::abs(l.toOutputUnits(figure::Format::Pdf, 96) - 72.0) < 1e-9);
  QVERIFY(figure::parseLength("25.4mm", &l, &error));
  QVERIFY(std::abs(l.toOutputUnits(figure::Format::Png, 150) - 150.0) < 1e-9);
  QVERIFY(figure::parseLength("240pt", &l, &error));
  QCOMPARE(l.toOutputUnits(figure::Format::Png, 300), 1000.0);
  QCOMPARE(l.toOutputUnits(figure::Format::Svg, 300), 240.0);
  QVERIFY(figure::parseLength("900", &l, &error));
  QCOMPARE(l.toOutputUnits(figure::Format::Png, 300), 900.0);
  QCOMPARE(l.toOutputUnits(figure::Format::Pdf, 96), 675.0);
  QVERIFY(figure::parseLength("900px", &l, &error));
  QCOMPARE(l.value, 900.0);
  for (const char* bad : {"", "in", "-3in", "0", "3furlongs", "nan"}) {
    QVERIFY2(!figure::parseLength(bad, &l, &error), bad);
    QVERIFY(error.contains("expected a positive length"));
  }
}

void TestFigureRender::divergingForSignedOperators() {
  const int L = 16;
  HeatmapView heat;
  QVector<double> t(L * L, 0.0);
  for (int r = 0; r < L; ++r)
    for (int c = 0; c <= r; ++c) t[r * L + c] = (r - c) % 2 ? -0.5 * std::pow(0.8, r - c) : 2.0 * std::pow(0.8, r - c);
  heat.setOperator(L, t);
  // Signed: the diverging map, its range symmetric about 0, so 0 gets the map's white centre.
  QCOMPARE(heat.effectiveColorMap(), colormaps::Map::Diverging);
  const QCPRange range = heat.colorMap()->dataRange();
  QCOMPARE(range.lower, -2.0);
  QCOMPARE(range.upper, 2.0);
  const QColor zero = QColor::fromRgba(heat.colorMap()->gradient().color(0.0, range));
  QVERIFY2(zero.red() >= 240 && zero.green() >= 240 && zero.blue() >= 240, qPrintable(zero.name()));
  QVERIFY(QColor::fromRgba(heat.colorMap()->gradient().color(-2.0, range)).blue() >
          QColor::fromRgba(heat.colorMap()->gradient().color(-2.0, range)).red());  // negative: blue
  QVERIFY(QColor::fromRgba(heat.colorMap()->gradient().color(2.0, range)).red() >
          QColor::fromRgba(heat.colorMap()->gradient().color(2.0, range)).blue());  // positive: red
  // Non-negative: viridis; the log scale never diverges.
  QVector<double> positive = t;
  for (double& v : positive) v = std::abs(v);
  heat.setOperator(L, positive);
  QCOMPARE(heat.effectiveColorMap(), colormaps::Map::Viridis);
  heat.setOperator(L, t);
  heat.setScale(HeatmapView::Scale::Log10);
  QCOMPARE(heat.effectiveColorMap(), colormaps::Map::Viridis);
  heat.setScale(HeatmapView::Scale::Linear);
  // A chosen map and the range modes.
  heat.setColorMap(false, colormaps::Map::Magma);
  QCOMPARE(heat.effectiveColorMap(), colormaps::Map::Magma);
  HeatmapView::ColorRange fixed;
  QString error;
  QVERIFY(HeatmapView::ColorRange::parse("-1:3", &fixed, &error));
  heat.setColorRange(fixed);
  QCOMPARE(heat.colorMap()->dataRange(), QCPRange(-1, 3));
  QVERIFY(HeatmapView::ColorRange::parse("symmetric", &fixed, &error));
  heat.setColorRange(fixed);
  QCOMPARE(heat.colorMap()->dataRange(), QCPRange(-2, 2));
  QVERIFY(HeatmapView::ColorRange::parse("p50.5", &fixed, &error));
  for (const char* bad : {"", "p40", "3:1", "wide", "1:x"})
    QVERIFY2(!HeatmapView::ColorRange::parse(bad, &fixed, &error), bad);
  // Zeros on a log scale and the masked upper triangle are transparent over the grey mask.
  heat.setColorRange(HeatmapView::ColorRange());
  heat.setMaskUpper(true);
  heat.resize(400, 400);
  heat.replot();
  const QImage image = heat.toPixmap(400, 400).toImage();
  const QPointF upper = heat.pixelOf(L - 2, 1);  // column L-2, row 1: above the diagonal
  QCOMPARE(image.pixelColor(upper.toPoint()), colormaps::maskColor());
  heat.setMaskUpper(false);
  heat.setColorMap(true);
  heat.replot();
  const QImage unmasked = heat.toPixmap(400, 400).toImage();
  const QColor centre = unmasked.pixelColor(upper.toPoint());  // an exact 0: the white centre
  QVERIFY2(centre.red() >= 240 && centre.blue() >= 240, qPrintable(centre.name()));
  heat.setScale(HeatmapView::Scale::Log10);
  heat.replot();
  QCOMPARE(heat.toPixmap(400, 400).toImage().pixelColor(upper.toPoint()), colormaps::maskColor());
}

void TestFigureRender::vectorOpensElsewhere_data() {
  QTest::addColumn<QString>("kind");
  for (const char* kind : {"heatmap", "curve", "spectrum", "layers", "position", "grid", "gridcurve"})
    QTest::addRow("%s", kind) << QString(kind);
}

// PDF and SVG open identically in other programs: every font in the PDF is embedded
// (poppler's pdffonts), and the SVG, whose text is drawn as glyph outlines, rasterized by
// librsvg's rsvg-convert matches the PNG export of the same figure.
void TestFigureRender::vectorOpensElsewhere() {
  QFETCH(QString, kind);
  const QString pdffonts = QStandardPaths::findExecutable("pdffonts");
  const QString rsvg = QStandardPaths::findExecutable("rsvg-convert");
  if (pdffonts.isEmpty() || rsvg.isEmpty())
    QSKIP("pdffonts or rsvg-convert missing (Debian poppler-utils, librsvg2-bin; scripts/setup-debian.sh)");
  QTemporaryDir dir;
  Figure f = makeFigure(kind);
  FigureStyle style;
  style.preset = FigureStyle::Preset::Paper;
  f.view->setFigureStyle(style);
  const QSize points(234, 0);  // 3.25 in wide, the figure's own height
  QString error;
  const QString pdf = dir.filePath("f.pdf"), svg = dir.filePath("f.svg");
  QVERIFY2(figure::save(f.view.get(), pdf, {points.width(), 0, 300}, &error), qPrintable(error));
  QProcess fonts;
  fonts.start(pdffonts, {pdf});
  QVERIFY(fonts.waitForFinished(30000));
  QCOMPARE(fonts.exitCode(), 0);
  const QStringList lines = QString::fromUtf8(fonts.readAllStandardOutput()).split('\n', Qt::SkipEmptyParts);
  QVERIFY2(lines.size() >= 3, qPrintable(lines.join('\n')));  // header, rule, at least one font
  const int emb = int(lines[0].indexOf("emb"));
  QVERIFY(emb > 0);
  for (int i = 2; i < lines.size(); ++i)
    QVERIFY2(lines[i].mid(emb, 3) == "yes", qPrintable("not embedded: " + lines[i]));

  // The SVG and the PNG at 144 dpi: 2 pixels per point.
  const int height = int(std::lround(pdfMediaBox(pdf).height()));
  QVERIFY(height > 50);
  QVERIFY2(figure::save(f.view.get(), svg, {points.width(), height, 300}, &error), qPrintable(error));
  QFile svgFile(svg);
  QVERIFY(svgFile.open(QIODevice::ReadOnly));
  const QByteArray svgText = svgFile.readAll();
  QVERIFY2(!svgText.contains("<text"), "the SVG holds text elements (not outlined)");
  const QSize px(2 * points.width(), 2 * height);
  const QImage png = figure::renderImage(f.view.get(), {px.width(), px.height(), 144});
  const QString rasterized = dir.filePath("rsvg.png");
  QProcess convert;
  convert.start(rsvg, {"-w", QString::number(px.width()), "-h", QString::number(px.height()), "-b", "white", "-o",
                       rasterized, svg});
  QVERIFY(convert.waitForFinished(60000));
  QVERIFY2(convert.exitCode() == 0, convert.readAllStandardError().constData());
  const QImage other(rasterized);
  QCOMPARE(other.size(), png.size());
  // Grey levels averaged over blocks of 8 x 8 pixels (4 x 4 points): the two rasterizers'
  // antialiasing and dash phases differ pixel by pixel; a missing, moved or substituted glyph or
  // line changes the block means.
  constexpr int kBlock = 8;
  double difference = 0, ink = 0;
  int blocks = 0;
  for (int by = 0; by + kBlock <= px.height(); by += kBlock)
    for (int bx = 0; bx + kBlock <= px.width(); bx += kBlock) {
      double a = 0, b = 0;
      for (int y = by; y < by + kBlock; ++y)
        for (int x = bx; x < bx + kBlock; ++x) a += qGray(png.pixel(x, y)), b += qGray(other.pixel(x, y));
      difference += std::abs(a - b) / (kBlock * kBlock);
      ink += 255 - a / (kBlock * kBlock);
      ++blocks;
    }
  difference /= blocks;
  ink /= blocks;
  QVERIFY2(ink > 2, qPrintable(QStringLiteral("mean ink %1").arg(ink)));  // something was drawn
  qInfo("%s: mean block grey-level difference %.2f, mean ink %.2f", qPrintable(kind), difference, ink);
  // Calibrated on this project's figures: 1.2 to 3.2 grey levels with both rasterizers.
  QVERIFY2(difference < 2.5 + 0.05 * ink,
           qPrintable(QStringLiteral("mean grey-level difference %1 (ink %2)").arg(difference).arg(ink)));
}

void TestFigureRender::gridSharesOneColourScale() {
  GridFigureView grid;
  const QVector<GridPanel> panels = gridPanels(16, false);
  grid.setHeatmaps(panels, {}, "grid");
  QCOMPARE(grid.panelCount(), 6);
  QCOMPARE(grid.rowCount(), 2);
  QCOMPARE(grid.columnCount(), 3);
  // One colour scale, its range the min..max over every panel (0 .. 2, layer 1's diagonal).
  QVERIFY(grid.colorScale());
  QCOMPARE(grid.colorScale()->dataRange(), QCPRange(0.0, 2.0));
  for (int i = 0; i < grid.panelCount(); ++i) {
    QCOMPARE(grid.panelMap(i)->colorScale(), grid.colorScale());
    QCOMPARE(grid.panelMap(i)->dataRange(), QCPRange(0.0, 2.0));
  }
  QCOMPARE(grid.effectiveColorMap(), colormaps::Map::Viridis);
  // Shared axes: tick labels and axis titles on the outer panels only.
  for (int i = 0; i < grid.panelCount(); ++i) {
    const GridPanel& p = grid.panel(i);
    QCOMPARE(grid.panelRect(i)->axis(QCPAxis::atBottom)->tickLabels(), p.row == 1);
    QCOMPARE(grid.panelRect(i)->axis(QCPAxis::atLeft)->tickLabels(), p.column == 0);
    QCOMPARE(grid.panelRect(i)->axis(QCPAxis::atLeft)->label().isEmpty(), p.column != 0);
  }
  // Equal square panels at the tight height, the colour bar as high as the panels.
  figure::ExportOptions o;
  o.width = 975;
  o.dpi = 300;
  o.height = figure::resolvedSize(&grid, figure::Format::Png, o).height();
  QVERIFY(!figure::renderImage(&grid, o).isNull());
  const QRect first = grid.panelRect(0)->rect(), last = grid.panelRect(5)->rect();
  for (int i = 0; i < grid.panelCount(); ++i) {
    const QRect r = grid.panelRect(i)->rect();
    QVERIFY2(std::abs(r.width() - first.width()) <= 1 && std::abs(r.height() - first.height()) <= 1,
             qPrintable(QStringLiteral("panel %1: %2 x %3").arg(i).arg(r.width()).arg(r.height())));
    QVERIFY2(std::abs(r.width() - r.height()) <= 1,
             qPrintable(QStringLiteral("%1 x %2").arg(r.width()).arg(r.height())));
  }
  const QRect bar = grid.colorScale()->rect();
  QVERIFY2(std::abs(bar.top() - first.top()) <= 1 && std::abs(bar.bottom() - last.bottom()) <= 1,
           qPrintable(QStringLiteral("bar %1..%2, panels %3..%4")
                          .arg(bar.top())
                          .arg(bar.bottom())
                          .arg(first.top())
                          .arg(last.bottom())));
  // Signed values: the diverging map, symmetric over all panels.
  QVector<GridPanel> signedPanels = panels;
  signedPanels[4].tile.values[3 * 16 + 1] = -3.0;
  grid.setHeatmaps(signedPanels, {}, "grid");
  QCOMPARE(grid.effectiveColorMap(), colormaps::Map::Diverging);
  QCOMPARE(grid.colorScale()->dataRange(), QCPRange(-3.0, 3.0));
  // Log scale: exact zeros (the upper triangles) transparent over the neutral colour, the range
  // log10 of the smallest and largest magnitudes over all panels.
  GridFigureView::HeatmapStyle log;
  log.scale = HeatmapView::Scale::Log10;
  grid.setHeatmaps(panels, log, "grid");
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const GridPanel& p : panels)
    for (double v : p.tile.values)
      if (v != 0) lo = std::min(lo, std::log10(v)), hi = std::max(hi, std::log10(v));
  QVERIFY(std::abs(grid.colorScale()->dataRange().lower - std::max(lo, hi - 10)) < 1e-9);
  QVERIFY(std::abs(grid.colorScale()->dataRange().upper - hi) < 1e-9);
  QCOMPARE(grid.panelMap(2)->data()->alpha(15, 0), 0);    // column 15, row 0: above the diagonal
  QCOMPARE(grid.panelMap(2)->data()->alpha(0, 15), 255);  // column 0, row 15
  // Four columns in 3.25 in, paper style: axis titles in their short form, never elided.
  QVector<GridPanel> wide = panels;
  for (int i = 0; i < 2; ++i) {
    GridPanel p = panels[i * 3];
    p.column = 3, p.head = 3;
    wide.append(p);
  }
  GridFigureView four;
  FigureStyle paper;
  paper.preset = FigureStyle::Preset::Paper;
  four.setFigureStyle(paper);
  four.setHeatmaps(wide, {}, "grid");
  QCOMPARE(four.columnCount(), 4);
  o.height = figure::resolvedSize(&four, figure::Format::Png, o).height();
  QVERIFY(!figure::renderImage(&four, o).isNull());
  for (int i = 0; i < four.panelCount(); ++i)
    for (QCPAxis* a : {four.panelRect(i)->axis(QCPAxis::atBottom), four.panelRect(i)->axis(QCPAxis::atLeft)})
      QVERIFY2(!a->label().contains(QChar(0x2026)), qPrintable(a->label()));
  // The CSV has every sample of every panel.
  QCOMPARE(grid.toCsv().count('\n'), 1 + 6 * 16 * 16);
  // Curves: one y range for all panels (0 .. the largest value, the TSS of 24, with room).
  grid.setCurves(gridPanels(32, true), "curves");
  QCOMPARE(grid.panelCount(), 6);
  QVERIFY(!grid.colorScale());
  for (int i = 0; i < grid.panelCount(); ++i) {
    const QCPRange y = grid.panelRect(i)->axis(QCPAxis::atLeft)->range();
    QCOMPARE(y.lower, 0.0);
    QVERIFY(std::abs(y.upper - 24 * 1.08) < 1e-9);
  }
}

void TestFigureRender::gridOfFiles_data() {
  QTest::addColumn<QString>("path");
  QTest::addColumn<QString>("panel");
  for (const char* panel : {"heatmap", "curve"}) {
    QTest::addRow("operator file %s", panel)
        << QStringLiteral(ESS_TEST_DATA_DIR "/softmax_attention_h2_L64.safetensors") << QString(panel);
    QTest::addRow("gpt2 %s", panel) << QStringLiteral(ESS_TEST_DATA_DIR "/hf/gpt2_torch") << QString(panel);
  }
}

// Every layer and head of an operator file with heads and of a Hugging Face fixture model: a
// panel per (layer, head), the colour range min..max over all their operators, the PNG exactly
// the size asked for with every text inside and apart.
void TestFigureRender::gridOfFiles() {
  QFETCH(QString, path);
  QFETCH(QString, panel);
  auto session = ess::Session::open(path.toStdString());
  const ess::SourceInfo& info = session->info();
  std::vector<int> layers;
  std::vector<std::vector<int>> heads;
  size_t expected = 0;
  for (const auto& l : info.layers) {
    layers.push_back(l.index);
    heads.emplace_back();
    for (int h = 0; h < l.heads; ++h) heads.back().push_back(h);
    expected += l.heads;
  }
  QVERIFY(expected >= 2);
  const bool curves = panel == "curve";
  const auto kind = curves ? GridFigureView::Kind::Curve : GridFigureView::Kind::Heatmap;
  const QVector<GridPanel> panels = viewdata::gridPanels(*session, layers, heads, kind, ess::EssOptions());
  QCOMPARE(size_t(panels.size()), expected);
  GridFigureView grid;
  if (curves)
    grid.setCurves(panels, "curves");
  else
    grid.setHeatmaps(panels, {}, "operators");
  QCOMPARE(size_t(grid.panelCount()), expected);
  QCOMPARE(grid.rowCount(), int(info.layers.size()));
  if (!curves) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& l : info.layers) {
      const ess::OperatorData op = session->operatorOf(l.index);
      for (double v : op.values) lo = std::min(lo, v), hi = std::max(hi, v);
    }
    QCPRange expectedRange(lo, hi);
    if (lo < 0) expectedRange = QCPRange(-std::max(-lo, hi), std::max(-lo, hi));  // diverging: symmetric
    QCOMPARE(grid.colorScale()->dataRange(), expectedRange);
  }
  FigureStyle style;
  style.preset = FigureStyle::Preset::Paper;
  grid.setFigureStyle(style);
  figure::ExportOptions o;
  o.width = 975;  // 3.25 in at 300 dpi
  o.dpi = 300;
  o.height = figure::resolvedSize(&grid, figure::Format::Png, o).height();
  const QImage image = figure::renderImage(&grid, o);
  QCOMPARE(image.size(), QSize(o.width, o.height));
  const QRectF page(0, 0, std::lround(o.width / o.dpi * layoutDpi()), std::lround(o.height / o.dpi * layoutDpi()));
  const QVector<TextBox> boxes = textBoxes(&grid);
  QVERIFY(boxes.size() >= int(expected));
  for (int i = 0; i < boxes.size(); ++i) {
    QVERIFY2(page.contains(boxes[i].rect), qPrintable(boxes[i].what + " leaves the figure"));
    for (int j = i + 1; j < boxes.size(); ++j) {
      const QRectF common = boxes[i].rect.adjusted(0.5, 0.5, -0.5, -0.5) & boxes[j].rect.adjusted(0.5, 0.5, -0.5, -0.5);
      QVERIFY2(common.isEmpty(), qPrintable(boxes[i].what + " overlaps " + boxes[j].what));
    }
  }
}

// A convolution's operator (band of width 5) drawn from tiles, as long operators are: on the log
// scale its exact zeros, and with the mask its upper triangle, get the neutral colour of the
// dense view, never the lowest colour of the map, under a point-sampled overview and under an
// exact detail tile alike.
void TestFigureRender::tiledZerosAndMaskAreNeutral() {
  auto session = ess::Session::open(ESS_TEST_DATA_DIR "/conv_k5_L64.safetensors");
  const ess::OperatorData op = session->operatorOf(0);
  const int L = op.length;
  QCOMPARE(L, 64);
  QVector<double> t(L * L);
  for (int r = 0; r < L; ++r)
    for (int c = 0; c < L; ++c) t[r * L + c] = op.at(0, r, c);
  QCOMPARE(t[40 * L + 5], 0.0);  // below the band
  QVERIFY(t[40 * L + 38] != 0);  // in the band
  const auto tileOf = [&](int r0, int r1, int c0, int c1, int step) {
    HeatmapTile tile;
    tile.firstRow = r0, tile.firstColumn = c0, tile.rowStep = tile.columnStep = step;
    tile.rows = (r1 - r0) / step, tile.columns = (c1 - c0) / step;
    for (int i = 0; i < tile.rows; ++i)
      for (int j = 0; j < tile.columns; ++j) tile.values.append(t[(r0 + i * step) * L + c0 + j * step]);
    return tile;
  };
  HeatmapView dense, tiled;
  dense.setOperator(L, t);
  tiled.setTiledOperator(L, tileOf(0, L, 0, L, 2));  // 1:2 overview
  for (HeatmapView* v : {&dense, &tiled}) {
    v->setScale(HeatmapView::Scale::Log10);
    v->resize(400, 400);
    v->replot();
  }
  const auto colourAt = [](HeatmapView& v, int row, int column) {
    return v.toPixmap(400, 400).toImage().pixelColor(v.pixelOf(column, row).toPoint());
  };
  const QColor lowest = QColor::fromRgba(dense.colorMap()->gradient().color(0, QCPRange(0, 1)));
  QVERIFY(lowest != colormaps::maskColor());
  QCOMPARE(colourAt(dense, 40, 5), colormaps::maskColor());
  QCOMPARE(colourAt(tiled, 40, 5), colormaps::maskColor());  // the overview's sample (40, 4): 0
  QVERIFY(colourAt(tiled, 40, 40) != colormaps::maskColor());
  // Zoomed in: an exact detail tile over the overview.
  tiled.xAxis->setRange(-0.5, 31.5);
  tiled.yAxis->setRange(31.5, 63.5);
  tiled.setDetailTile(tileOf(32, 64, 0, 32, 1));
  tiled.replot();
  QCOMPARE(colourAt(tiled, 40, 5), colormaps::maskColor());
  QCOMPARE(colourAt(tiled, 40, 7), colormaps::maskColor());
  QVERIFY(colourAt(tiled, 35, 31) != colormaps::maskColor());  // in the band (r - c = 4)
  // The masked upper triangle, linear scale.
  tiled.setScale(HeatmapView::Scale::Linear);
  tiled.setMaskUpper(true);
  tiled.resetView();
  dense.setScale(HeatmapView::Scale::Linear);
  dense.setMaskUpper(true);
  for (HeatmapView* v : {&dense, &tiled}) v->replot();
  QCOMPARE(colourAt(dense, 5, 40), colormaps::maskColor());
  QCOMPARE(colourAt(tiled, 5, 40), colormaps::maskColor());
  QVERIFY(colourAt(tiled, 40, 38) != colormaps::maskColor());
}

QTEST_MAIN(TestFigureRender)

namespace {

std::unique_ptr<LayerComparisonView> longNamedLayers() {
  auto v = std::make_unique<LayerComparisonView>();
  v->setData({"0: softmax_attention", "1: gla"}, {{15.5, 16.1}, {14.3, 14.1}}, "mean tolerance-ESS", QString(),
             {{"0", "1"}, {"0", "1"}});
  v->setTotals({{"0: softmax_attention", 1000.0, 600.0, 4096.0, 0.25}, {"1: gla", 950.0, 400.0, 2048.0, 0.46}});
  return v;
}

}  // namespace

void TestFigureRender::narrowExportAfterAWideLayout() {
  // A view first laid out at a window's width (long layer names fit there), then exported at
  // 2 in: its panels get the margins of the 2-inch layout, not the wide one's (a colour scale
  // in the panels' margin group once kept them), and the legend keeps its rows.
  FigureStyle style;
  style.preset = FigureStyle::Preset::Paper;
  figure::ExportOptions o;
  o.width = 400;
  o.dpi = 200;
  auto fresh = longNamedLayers();
  fresh->setFigureStyle(style);
  o.height = figure::resolvedSize(fresh.get(), figure::Format::Png, o).height();
  QVERIFY(!figure::renderImage(fresh.get(), o).isNull());
  const int freshMargin = fresh->axisRect()->margins().left();

  auto wide = longNamedLayers();
  wide->setFigureStyle(style);
  wide->resize(900, 600);
  wide->replot();
  const int wideMargin = wide->axisRect()->margins().left();
  QVERIFY2(wideMargin > freshMargin, qPrintable(QStringLiteral("wide %1, 2 in %2").arg(wideMargin).arg(freshMargin)));
  o.height = figure::resolvedSize(wide.get(), figure::Format::Png, o).height();
  QVERIFY(!figure::renderImage(wide.get(), o).isNull());
  QCOMPARE(wide->axisRect()->margins().left(), freshMargin);
  for (QCPLayoutElement* e : wide->plotLayout()->elements(true))
    if (auto* legend = qobject_cast<QCPLegend*>(e))
      if (legend->visible())
        QVERIFY2(legend->outerRect().height() >= legend->minimumOuterSizeHint().height(),
                 qPrintable(QStringLiteral("legend %1 px tall, needs %2")
                                .arg(legend->outerRect().height())
                                .arg(legend->minimumOuterSizeHint().height())));
}

#include "test_figure_render.moc"
