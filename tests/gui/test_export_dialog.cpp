// The export dialog on the offscreen platform: the figure's own (tight) height for the width,
// units that follow the format, a preview rendered by the export code, the style applied to the
// export only, sizes in px, pt, in or cm, a heatmap export's own colours, and every setting
// remembered (QSettings in Qt's test location).
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFontComboBox>
#include <QImage>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>

#include "ess_curve_view.h"
#include "export_dialog.h"
#include "heatmap_view.h"

class TestExportDialog : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("ess-explorer-tests"));
    QCoreApplication::setApplicationName(QStringLiteral("test_export_dialog"));
    QSettings().clear();
  }

  void previewsTightFigureAndRemembers() {
    const int L = 32;
    HeatmapView heat;
    QVector<double> t(L * L, 0.0);
    for (int r = 0; r < L; ++r)
      for (int c = 0; c <= r; ++c) t[r * L + c] = std::pow(0.8, r - c);
    heat.setOperator(L, t, QStringLiteral("operator T"));
    heat.resize(540, 793);  // a tall widget: the export must not take its size
    EssCurveView curve;
    EssSeries s;
    for (int i = 1; i < L; ++i) s.splits << i, s.tolerance << std::min(i, L - i), s.entropy << 0.5 * std::min(i, L - i);
    curve.setSeries({s}, QStringLiteral("ESS"));
    curve.resize(600, 400);
    {
      ExportDialog d({&heat, &curve}, {"heatmap", "curve"}, 0);
      QCOMPARE(d.format(), figure::Format::Png);
      QVERIFY(d.tightBox()->isChecked());
      QVERIFY(!d.heightBox()->isEnabled());
      // The heatmap's own height for the width: its square matrix and colour bar, not 793 px.
      const int w = d.widthBox()->value();
      QCOMPARE(d.heightBox()->value(), double(figure::resolvedSize(&heat, figure::Format::Png, {w, 0, 96}).height()));
      QVERIFY(d.heightBox()->value() < w);
      // The preview: the export's rendering, scaled to at most 320 pixels a side.
      QVERIFY(!d.preview().isNull());
      QCOMPARE(std::max(d.preview().width(), d.preview().height()), 320);
      QVERIFY(std::abs(double(d.preview().width()) / d.preview().height() - double(w) / d.heightBox()->value()) < 0.02);
      const QImage screen = d.preview();
      d.styleBox()->setCurrentIndex(d.styleBox()->findData(QStringLiteral("paper")));
      QVERIFY(d.preview() != screen);                                    // paper: smaller text, no title
      QCOMPARE(heat.figureStyle().preset, FigureStyle::Preset::Screen);  // the view keeps its own
      // Units follow the format.
      d.formatBox()->setCurrentIndex(d.formatBox()->findData(int(figure::Format::Pdf)));
      QCOMPARE(d.widthBox()->suffix(), QStringLiteral(" pt"));
      QVERIFY(!d.dpiBox()->isEnabled());
      d.formatBox()->setCurrentIndex(d.formatBox()->findData(int(figure::Format::Png)));
      QCOMPARE(d.widthBox()->suffix(), QStringLiteral(" px"));
      // Exported in the dialog's style and size; the view gets its style back.
      d.widthBox()->setValue(975);
      d.dpiBox()->setValue(300);
      QTemporaryDir dir;
      QString error;
      QVERIFY2(d.exportView(&heat, dir.filePath("h.png"), &error), qPrintable(error));
      const QImage png(dir.filePath("h.png"));
      QCOMPARE(png.size(), QSize(975, int(d.heightBox()->value())));
      QCOMPARE(heat.figureStyle().preset, FigureStyle::Preset::Screen);
      // Settings to remember.
      d.viewBox()->setCurrentIndex(1);
      d.formatBox()->setCurrentIndex(d.formatBox()->findData(int(figure::Format::Svg)));
      d.fontSizeBox()->setValue(8);
      d.widthBox()->setValue(300);
      QMetaObject::invokeMethod(d.findChild<QDialogButtonBox*>(), "accepted");
    }
    ExportDialog again({&heat, &curve}, {"heatmap", "curve"}, 0);
    QCOMPARE(again.viewBox()->currentText(), QStringLiteral("curve"));
    QCOMPARE(again.format(), figure::Format::Svg);
    QCOMPARE(again.styleBox()->currentData().toString(), QStringLiteral("paper"));
    QCOMPARE(again.fontSizeBox()->value(), 8.0);
    QCOMPARE(again.widthBox()->value(), 300.0);
    QCOMPARE(again.dpiBox()->value(), 300);
    QCOMPARE(again.figureStyle().fontSize, 8.0);
    QCOMPARE(again.figureStyle().title, FigureStyle::Title::None);
    // The curve has no natural aspect: its height is 0.58 x the width or more.
    QVERIFY(again.heightBox()->value() >= int(0.58 * 300));
  }

  // The size in a unit of the user's choice: converted when the unit or the format changes, so
  // the figure keeps its physical size; the output is in pixels (PNG) or points (vector).
  void unitsConvert() {
    QSettings().clear();
    const int L = 32;
    HeatmapView heat;
    heat.setOperator(L, QVector<double>(L * L, 1.0));
    ExportDialog d({&heat}, {"heatmap"}, 0);
    QCOMPARE(d.unit(), figure::Unit::Px);
    QCOMPARE(d.unitBox()->count(), 3);
    QCOMPARE(d.unitBox()->itemData(0).toString(), QStringLiteral("px"));
    d.dpiBox()->setValue(300);
    d.widthBox()->setValue(975);
    d.unitBox()->setCurrentIndex(d.unitBox()->findData(QStringLiteral("in")));
    QCOMPARE(d.unit(), figure::Unit::In);
    QCOMPARE(d.widthBox()->suffix(), QStringLiteral(" in"));
    QCOMPARE(d.widthBox()->value(), 3.25);
    QCOMPARE(d.options().width, 975);
    // The height is the figure's own for the width, exact in pixels, shown rounded in inches.
    const int tight = figure::resolvedSize(&heat, figure::Format::Png, {975, 0, 300}).height();
    QCOMPARE(d.options().height, tight);
    QVERIFY(std::abs(d.heightBox()->value() - tight / 300.0) <= 0.005);
    // A PNG 8.3 cm wide at 300 dpi is 980 pixels; the same as a PDF is 235 points.
    d.unitBox()->setCurrentIndex(d.unitBox()->findData(QStringLiteral("cm")));
    QCOMPARE(d.widthBox()->value(), 8.26);
    d.widthBox()->setValue(8.3);
    QCOMPARE(d.options().width, 980);
    d.formatBox()->setCurrentIndex(d.formatBox()->findData(int(figure::Format::Pdf)));
    QCOMPARE(d.unitBox()->itemData(0).toString(), QStringLiteral("pt"));
    QCOMPARE(d.unit(), figure::Unit::Cm);
    QCOMPARE(d.widthBox()->value(), 8.3);
    QCOMPARE(d.options().width, 235);
    d.unitBox()->setCurrentIndex(d.unitBox()->findData(QStringLiteral("pt")));
    QCOMPARE(d.widthBox()->value(), 235.0);
    QCOMPARE(d.widthBox()->suffix(), QStringLiteral(" pt"));
    // Back to PNG: points become pixels at the dpi (235 pt = 3.264 in = 979 px at 300 dpi).
    d.formatBox()->setCurrentIndex(d.formatBox()->findData(int(figure::Format::Png)));
    QCOMPARE(d.unit(), figure::Unit::Px);
    QCOMPARE(d.widthBox()->value(), 979.0);
    // A width in inches keeps its inches when the dpi changes; its pixels follow.
    d.unitBox()->setCurrentIndex(d.unitBox()->findData(QStringLiteral("in")));
    d.widthBox()->setValue(2);
    d.dpiBox()->setValue(150);
    QCOMPARE(d.widthBox()->value(), 2.0);
    QCOMPARE(d.options().width, 300);
    // Remembered with its unit.
    QMetaObject::invokeMethod(d.findChild<QDialogButtonBox*>(), "accepted");
    ExportDialog again({&heat}, {"heatmap"}, 0);
    QCOMPARE(again.unit(), figure::Unit::In);
    QCOMPARE(again.widthBox()->value(), 2.0);
    QCOMPARE(again.options().width, 300);
  }

  // Heatmap exports take their own colormap and colour range (default: the view's, whose
  // colours come back after the export), remembered; a malformed range blocks OK.
  void heatmapColours() {
    QSettings().clear();
    const int L = 32;
    HeatmapView heat;
    QVector<double> t(L * L, 0.0);
    for (int r = 0; r < L; ++r)
      for (int c = 0; c <= r; ++c) t[r * L + c] = std::pow(0.8, r - c);  // diagonal 1
    heat.setOperator(L, t);
    heat.setColorMap(false, colormaps::Map::Magma);
    HeatmapView::ColorRange p99;
    QVERIFY(HeatmapView::ColorRange::parse(QStringLiteral("p99"), &p99, nullptr));
    heat.setColorRange(p99);
    EssCurveView curve;
    // Pixels drawn in viridis's top colour (values at or above the range's maximum).
    const QColor top = colormaps::gradient(colormaps::Map::Viridis).color(1.0, QCPRange(0, 1));
    const auto topPixels = [&](const QString& path) {
      const QImage img = QImage(path).convertToFormat(QImage::Format_RGB32);
      int n = 0;
      for (int y = 0; y < img.height(); ++y)
        for (int x = 0; x < img.width(); ++x) n += img.pixel(x, y) == top.rgb();
      return n;
    };
    QTemporaryDir dir;
    QString error;
    {
      ExportDialog d({&heat, &curve}, {"heatmap", "curve"}, 0);
      QCOMPARE(d.colorMapBox()->currentData().toString(), QStringLiteral("view"));
      QVERIFY(d.colorRangeEdit()->text().isEmpty());
      QCOMPARE(d.colorRangeEdit()->placeholderText(), QStringLiteral("the view's: p99"));
      QVERIFY(d.colorMapBox()->isEnabled());
      QVERIFY2(d.exportView(&heat, dir.filePath("view.png"), &error), qPrintable(error));
      QCOMPARE(topPixels(dir.filePath("view.png")), 0);  // magma: no viridis colour
      const QImage magmaPreview = d.preview();
      d.colorMapBox()->setCurrentIndex(d.colorMapBox()->findData(QStringLiteral("viridis")));
      QVERIFY(d.preview() != magmaPreview);
      // 0..2: the diagonal's 1 is mid-range, only the colour bar's end has the top colour;
      // 0..0.5: the cells >= 0.5 (four diagonals, 122 of them) have it too.
      d.colorRangeEdit()->setText(QStringLiteral("0:2"));
      QVERIFY2(d.exportView(&heat, dir.filePath("wide.png"), &error), qPrintable(error));
      const int wide = topPixels(dir.filePath("wide.png"));
      d.colorRangeEdit()->setText(QStringLiteral("0:0.5"));
      QVERIFY2(d.exportView(&heat, dir.filePath("narrow.png"), &error), qPrintable(error));
      const int narrow = topPixels(dir.filePath("narrow.png"));
      QVERIFY2(narrow > wide + 20 * 122,
               qPrintable(QStringLiteral("%1 vs %2 top-colour pixels").arg(narrow).arg(wide)));
      // The view keeps its own colours.
      QCOMPARE(heat.effectiveColorMap(), colormaps::Map::Magma);
      QCOMPARE(heat.colorRange().text(), QStringLiteral("p99"));
      // A malformed range: OK is disabled, the hint says why, an export refuses.
      auto* ok = d.findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok);
      d.colorRangeEdit()->setText(QStringLiteral("1:0"));
      QVERIFY(!ok->isEnabled());
      QVERIFY(!d.exportView(&heat, dir.filePath("bad.png"), &error));
      QVERIFY2(error.contains(QStringLiteral("colour range")), qPrintable(error));
      QVERIFY(!QFile::exists(dir.filePath("bad.png")));
      d.colorRangeEdit()->setText(QStringLiteral("0:0.5"));
      QVERIFY(ok->isEnabled());
      // Colours are the heatmap's: disabled for the curve.
      d.viewBox()->setCurrentIndex(1);
      QVERIFY(!d.colorMapBox()->isEnabled());
      QVERIFY(!d.colorRangeEdit()->isEnabled());
      d.viewBox()->setCurrentIndex(0);
      QMetaObject::invokeMethod(d.findChild<QDialogButtonBox*>(), "accepted");
    }
    ExportDialog again({&heat, &curve}, {"heatmap", "curve"}, 0);
    QCOMPARE(again.colorMapBox()->currentData().toString(), QStringLiteral("viridis"));
    QCOMPARE(again.colorRangeEdit()->text(), QStringLiteral("0:0.5"));
    bool automatic = true;
    colormaps::Map map = colormaps::Map::Magma;
    HeatmapView::ColorRange range;
    QVERIFY(again.heatmapColors(&heat, &automatic, &map, &range));
    QVERIFY(!automatic);
    QCOMPARE(map, colormaps::Map::Viridis);
    QCOMPARE(range.mode, HeatmapView::ColorRange::Mode::Fixed);
    QCOMPARE(range.max, 0.5);
  }
};

QTEST_MAIN(TestExportDialog)
#include "test_export_dialog.moc"
