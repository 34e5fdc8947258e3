// The export dialog on the offscreen platform: the figure's own (tight) height for the width,
// units that follow the format, a preview rendered by the export code, the style applied to the
// export only, and every setting remembered (QSettings in Qt's test location).
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFontComboBox>
#include <QImage>
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
      QCOMPARE(d.heightBox()->value(), figure::resolvedSize(&heat, figure::Format::Png, {w, 0, 96}).height());
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
      QCOMPARE(png.size(), QSize(975, d.heightBox()->value()));
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
    QCOMPARE(again.widthBox()->value(), 300);
    QCOMPARE(again.dpiBox()->value(), 300);
    QCOMPARE(again.figureStyle().fontSize, 8.0);
    QCOMPARE(again.figureStyle().title, FigureStyle::Title::None);
    // The curve has no natural aspect: its height is 0.58 x the width or more.
    QVERIFY(again.heightBox()->value() >= int(0.58 * 300));
  }
};

QTEST_MAIN(TestExportDialog)
#include "test_export_dialog.moc"
