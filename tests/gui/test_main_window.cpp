// Tests of the ESS Explorer main window on real files: opening an operator file (and the
// bundled demo checkpoint when present), the layer/head tree, the split moved by the slider,
// arrow keys and clicks staying in step across heatmap, ESS curve and spectrum, errors shown
// without losing the document, drag and drop, the layer comparison, and figure export.
#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QImage>
#include <QLineEdit>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QTreeWidget>
#include <QXmlStreamReader>
#include <QtTest>

#include <cmath>
#include <random>
#include "ess/version.h"

#include "controls_panel.h"
#include "document.h"
#include "ess_curve_view.h"
#include "export_dialog.h"
#include "gui_test_helpers.h"
#include "heatmap_view.h"
#include "layer_comparison_view.h"
#include "main_window.h"
#include "position_ess_view.h"
#include "spectrum_view.h"
#include "split_point.h"

namespace {

const QString kOperatorFile = QStringLiteral(ESS_TEST_DATA_DIR "/softmax_attention_h2_L64.safetensors");
const QString kBadFile = QStringLiteral(ESS_TEST_DATA_DIR "/bad/not_json.safetensors");
// The bundled demo checkpoint; ESS_DEMO_CHECKPOINT points the test at another ess-lm directory.
const QString kDemoDir = qEnvironmentVariable("ESS_DEMO_CHECKPOINT", QStringLiteral(ESS_DEMO_DIR "/hybrid"));
constexpr int kTimeout = 120000;

struct Window : TestWindow {
  Window() : TestWindow(kTimeout) {}
};

bool isSvg(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return false;
  QXmlStreamReader xml(&f);
  bool sawSvg = false;
  while (!xml.atEnd()) {
    xml.readNext();
    if (xml.isStartElement() && xml.name() == QLatin1String("svg")) sawSvg = true;
  }
  return sawSvg && !xml.hasError();
}

// All three views show the same split, and the spectrum holds singular values of that split.
bool viewsAgree(MainWindow& w, int split) {
  return w.splitPoint()->split() == split && w.splitSlider()->value() == split && w.splitSpinBox()->value() == split &&
         w.heatmapView()->hankelOutline().top() == split - 0.5 &&
         w.heatmapView()->hankelOutline().right() == split - 0.5 && w.curveView()->cursorPosition() == double(split) &&
         w.spectrumView()->dataSplit() == split;
}

bool openAndWait(Window& win, const QString& path) { return win.open(path); }

}  // namespace

class TestMainWindow : public QObject {
  Q_OBJECT
 private slots:
  // Help > About names the version, the paper and the libraries with their licences; Help >
  // Keyboard Shortcuts lists the menus' shortcuts.
  // The export dialog restores the format and DPI last accepted, and its units follow the format.
  void exportDialogRemembers() {
    {
      ExportDialog d({"heatmap", "curve"}, 1, QSize(600, 400));
      d.formatBox()->setCurrentIndex(d.formatBox()->findData(int(figure::Format::Pdf)));
      QCOMPARE(d.widthBox()->suffix(), QStringLiteral(" pt"));
      d.dpiBox()->setValue(300);
      QMetaObject::invokeMethod(d.findChild<QDialogButtonBox*>(), "accepted");
    }
    ExportDialog again({"heatmap", "curve"}, 0, QSize(600, 400));
    QCOMPARE(again.format(), figure::Format::Pdf);
    QCOMPARE(again.dpiBox()->value(), 300);
    QCOMPARE(again.widthBox()->suffix(), QStringLiteral(" pt"));
    again.formatBox()->setCurrentIndex(again.formatBox()->findData(int(figure::Format::Png)));
    QCOMPARE(again.widthBox()->suffix(), QStringLiteral(" px"));
    QMetaObject::invokeMethod(again.findChild<QDialogButtonBox*>(), "accepted");
    QCOMPARE(ExportDialog({"heatmap"}, 0, QSize(600, 400)).format(), figure::Format::Png);
  }

  void helpMenu() {
    MainWindow w;
    QStringList menus;
    for (QAction* a : w.menuBar()->actions()) menus << a->text();
    QVERIFY2(menus.contains("&Help"), qPrintable(menus.join(',')));
    const QString about = MainWindow::aboutText();
    for (const char* part : {ess::versionString(), "Parnichkun", "ICML 2025", "2504.19561", "QCustomPlot", "GPL-3.0",
                             "LGPL-3.0", "Eigen", "LibTorch"})
      QVERIFY2(about.contains(QString::fromLatin1(part)), part);
    const QString keys = w.shortcutsText();
    QVERIFY2(
        keys.contains("Ctrl+E\tExport View...") && keys.contains("Ctrl+O\tOpen...") && keys.contains("Double-click"),
        qPrintable(keys));
  }
  void initTestCase();
  void opensOperatorFileAndKeepsViewsInStep();
  void errorKeepsPreviousDocument();
  void optionsChangeThreshold();
  void colourControlsDriveTheHeatmap();
  void layerComparisonOpensHead();
  void dropOpensFile();
  void exportsFromMainWindow();
  void exportFollowsTab();
  void inputLabelsOnOneLine();
  void applyEmptyTextSaysSo();
  void opensDemoCheckpoint();
  void longCurveShowsProgressAndCancels();
  void forwardPassDrivesTheProgressBar();
};

void TestMainWindow::initTestCase() {
  QStandardPaths::setTestModeEnabled(true);
  QCoreApplication::setOrganizationName(QStringLiteral("ess-explorer-tests"));
  QCoreApplication::setApplicationName(QStringLiteral("test_main_window"));
  QSettings().clear();
}

void TestMainWindow::opensOperatorFileAndKeepsViewsInStep() {
  Window win;
  MainWindow& w = win.w;
  QVERIFY(openAndWait(win, kOperatorFile));
  QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
  QCOMPARE(w.document()->path(), kOperatorFile);
  QStringList recent = QSettings().value("recentFiles").toStringList();
  QCOMPARE(recent.value(0), QFileInfo(kOperatorFile).absoluteFilePath());

  // The tree: one layer with its total and two heads.
  QTreeWidget* tree = w.layerTree();
  QCOMPARE(tree->topLevelItemCount(), 1);
  QVERIFY(tree->topLevelItem(0)->text(0).startsWith("layer 0: "));
  QVERIFY(tree->topLevelItem(0)->text(0).contains("(2 heads)"));
  QCOMPARE(tree->topLevelItem(0)->childCount(), 3);
  QVERIFY(tree->topLevelItem(0)->child(0)->text(0).startsWith("layer total"));
  QTRY_COMPARE_WITH_TIMEOUT(w.heatmapView()->length(), 64, kTimeout);

  // Select head 1 in the tree: the heatmap shows head 1 of the operator.
  tree->setCurrentItem(tree->topLevelItem(0)->child(2));
  QCOMPARE(w.currentLayer(), 0);
  QCOMPARE(w.currentHead(), 1);
  const ess::OperatorData* op = w.document()->operatorData(0);
  QVERIFY(op);
  QTRY_VERIFY_WITH_TIMEOUT(w.heatmapView()->title().contains("head 1"), kTimeout);
  QCOMPARE(w.heatmapView()->valueAt(40, 3), op->at(1, 40, 3));
  QCOMPARE(w.heatmapView()->valueAt(10, 10), op->at(1, 10, 10));
  QTRY_VERIFY_WITH_TIMEOUT(!w.curveView()->series().isEmpty(), kTimeout);
  QCOMPARE(w.curveView()->series().first().name, QStringLiteral("head 1"));

  // Slider.
  w.splitSlider()->setValue(20);
  QTRY_VERIFY_WITH_TIMEOUT(viewsAgree(w, 20), kTimeout);
  QCOMPARE(w.spectrumView()->sigma().size(), 20);  // min(s, L - s)
  // The spectrum's count above the threshold is the tolerance-ESS of the curve at s.
  const EssSeries& series = w.curveView()->series().first();
  const int i = series.splits.indexOf(20);
  QVERIFY(i >= 0);
  QCOMPARE(double(w.spectrumView()->countAboveThreshold()), series.tolerance[i]);

  // Arrow keys on the heatmap, the tree (Shift = 10) and the window.
  QTest::keyClick(w.heatmapView(), Qt::Key_Right);
  QTRY_VERIFY_WITH_TIMEOUT(viewsAgree(w, 21), kTimeout);
  QTest::keyClick(tree, Qt::Key_Right, Qt::ShiftModifier);
  QTRY_VERIFY_WITH_TIMEOUT(viewsAgree(w, 31), kTimeout);
  QTest::keyClick(&w, Qt::Key_Left);
  QTRY_VERIFY_WITH_TIMEOUT(viewsAgree(w, 30), kTimeout);
  QTest::keyClick(w.splitSlider(), Qt::Key_Left, Qt::ShiftModifier);
  QTRY_VERIFY_WITH_TIMEOUT(viewsAgree(w, 20), kTimeout);
  QCOMPARE(w.currentHead(), 1);  // the arrows did not move the tree

  // Spin box.
  w.splitSpinBox()->setValue(50);
  QTRY_VERIFY_WITH_TIMEOUT(viewsAgree(w, 50), kTimeout);

  // A click next to the column line between columns 9 and 10 on the heatmap: split 10.
  QTRY_VERIFY_WITH_TIMEOUT(w.heatmapView()->isVisible(), kTimeout);
  w.heatmapView()->replot();
  QTest::mouseClick(w.heatmapView(), Qt::LeftButton, {}, w.heatmapView()->pixelOf(9.45, 40).toPoint());
  QTRY_VERIFY_WITH_TIMEOUT(viewsAgree(w, 10), kTimeout);

  // A click on the ESS curve at s = 44.
  EssCurveView* curve = w.curveView();
  curve->replot();
  QTest::mouseClick(curve, Qt::LeftButton, {},
                    QPoint(int(curve->xAxis->coordToPixel(44)), curve->axisRect()->rect().center().y()));
  QTRY_VERIFY_WITH_TIMEOUT(viewsAgree(w, 44), kTimeout);
  QCOMPARE(w.spectrumView()->sigma().size(), 20);  // min(44, 20)
  QVERIFY(win.errors.isEmpty());
}

void TestMainWindow::errorKeepsPreviousDocument() {
  Window win;
  MainWindow& w = win.w;
  QVERIFY(openAndWait(win, kOperatorFile));
  QTRY_COMPARE_WITH_TIMEOUT(w.heatmapView()->length(), 64, kTimeout);
  QSignalSpy failed(w.document(), &Document::openFailed);
  w.openPath(kBadFile);
  QVERIFY(failed.wait(kTimeout));
  QCOMPARE(win.errors.size(), 1);
  QVERIFY2(win.errors.first().contains("not_json.safetensors"), qPrintable(win.errors.first()));
  // The window keeps the previous document and stays usable.
  QCOMPARE(w.document()->path(), kOperatorFile);
  QCOMPARE(w.layerTree()->topLevelItemCount(), 1);
  QCOMPARE(w.heatmapView()->length(), 64);
  w.splitSlider()->setValue(12);
  QTRY_VERIFY_WITH_TIMEOUT(viewsAgree(w, 12), kTimeout);

  // A missing file, too.
  w.openPath(QStringLiteral(ESS_TEST_DATA_DIR "/no_such_file.safetensors"));
  QVERIFY(failed.wait(kTimeout));
  QCOMPARE(win.errors.size(), 2);
  QCOMPARE(w.document()->path(), kOperatorFile);

  // The default presenter is a real dialog; close it from a timer so the test does not block.
  w.setErrorPresenter(nullptr);
  bool sawBox = false;
  MainWindow::ErrorPresenter modal = [&](const QString& title, const QString& message) {
    QTimer::singleShot(50, [&] {
      if (auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget())) {
        sawBox = box->text().contains("not_json");
        box->accept();
      }
    });
    QMessageBox::critical(&w, title, message);
  };
  w.setErrorPresenter(modal);
  w.openPath(kBadFile);
  QVERIFY(failed.wait(kTimeout));
  QTRY_VERIFY_WITH_TIMEOUT(sawBox, 5000);
  QCOMPARE(w.document()->path(), kOperatorFile);
}

void TestMainWindow::optionsChangeThreshold() {
  Window win;
  MainWindow& w = win.w;
  QVERIFY(openAndWait(win, kOperatorFile));
  QTRY_COMPARE_WITH_TIMEOUT(w.heatmapView()->length(), 64, kTimeout);
  w.splitSlider()->setValue(32);
  QTRY_VERIFY_WITH_TIMEOUT(viewsAgree(w, 32), kTimeout);
  w.controls()->toleranceBox()->setValue(1e-2);
  QCOMPARE(w.document()->options().tolerance_, 1e-2);
  QTRY_VERIFY_WITH_TIMEOUT(std::abs(w.spectrumView()->threshold() - 1e-2 * w.spectrumView()->sigma().value(0)) < 1e-15,
                           kTimeout);
  // The curve is recomputed with the new tolerance and agrees with the spectrum again.
  QTRY_VERIFY_WITH_TIMEOUT(!w.curveView()->series().isEmpty() && w.curveView()->title().contains("tol 0.01"), kTimeout);
  const EssSeries& s = w.curveView()->series().first();
  QCOMPARE(double(w.spectrumView()->countAboveThreshold()), s.tolerance[s.splits.indexOf(32)]);
  w.controls()->normalizationBox()->setCurrentIndex(1);  // sum
  QVERIFY(w.document()->options().normalization_ == ess::Normalization::Sum);
  w.controls()->logScaleBox()->setChecked(true);
  QCOMPARE(w.heatmapView()->scale(), HeatmapView::Scale::Log10);
  QVERIFY(win.errors.isEmpty());
}

void TestMainWindow::colourControlsDriveTheHeatmap() {
  Window win;
  MainWindow& w = win.w;
  QVERIFY(openAndWait(win, kOperatorFile));
  ControlsPanel* c = w.controls();
  QTRY_COMPARE_WITH_TIMEOUT(w.heatmapView()->length(), 64, kTimeout);  // the operator is drawn
  // Softmax attention has no negative entries: the automatic choice is viridis.
  QCOMPARE(w.heatmapView()->effectiveColorMap(), colormaps::Map::Viridis);
  c->colorMapBox()->setCurrentIndex(c->colorMapBox()->findData(QStringLiteral("magma")));
  QCOMPARE(w.heatmapView()->effectiveColorMap(), colormaps::Map::Magma);
  c->colorMapBox()->setCurrentIndex(c->colorMapBox()->findData(QStringLiteral("diverging")));
  QCOMPARE(w.heatmapView()->effectiveColorMap(), colormaps::Map::Diverging);
  c->colorMapBox()->setCurrentIndex(c->colorMapBox()->findData(QStringLiteral("auto")));
  QCOMPARE(w.heatmapView()->effectiveColorMap(), colormaps::Map::Viridis);

  c->colorRangeEdit()->setText(QStringLiteral("p95"));
  emit c->colorRangeEdit()->editingFinished();
  QCOMPARE(w.heatmapView()->colorRange().mode, HeatmapView::ColorRange::Mode::Percentile);
  QCOMPARE(w.heatmapView()->colorRange().percentile, 95.0);
  QSignalSpy status(c, &ControlsPanel::statusMessage);
  c->colorRangeEdit()->setText(QStringLiteral("from 1 to 2"));
  emit c->colorRangeEdit()->editingFinished();
  QCOMPARE(status.count(), 1);
  QVERIFY2(status.at(0).at(0).toString().startsWith("Range: "), qPrintable(status.at(0).at(0).toString()));
  QCOMPARE(w.heatmapView()->colorRange().mode, HeatmapView::ColorRange::Mode::Percentile);  // kept

  QVERIFY(!w.heatmapView()->maskUpper());
  c->maskUpperBox()->setChecked(true);
  QVERIFY(w.heatmapView()->maskUpper());
  QVERIFY(win.errors.isEmpty());
}

void TestMainWindow::layerComparisonOpensHead() {
  Window win;
  MainWindow& w = win.w;
  QVERIFY(openAndWait(win, kOperatorFile));
  QSignalSpy ready(w.document(), &Document::layerSummaryReady);
  w.tabs()->setCurrentIndex(1);
  QVERIFY(ready.count() > 0 || ready.wait(kTimeout));
  LayerComparisonView* view = w.layerView();
  QTRY_COMPARE_WITH_TIMEOUT(view->values().size(), 1, kTimeout);
  QCOMPARE(view->values()[0].size(), 2);
  QVERIFY(std::isfinite(view->values()[0][0]) && view->values()[0][0] > 0);
  QVERIFY2(
      view->toCsv().startsWith("layer,head,mean_tolerance_ess,mean_entropy_ess,mean_tss,mean_utilization\n0,total,"),
      qPrintable(view->toCsv()));
  QVERIFY(view->toCsv().contains("\n0,1,"));
  // The bars: the layer total is the sum of both heads' mean tolerance-ESS (d_v = 1).
  QCOMPARE(view->totals().size(), 1);
  QVERIFY(std::abs(view->totals()[0].tolerance - (view->values()[0][0] + view->values()[0][1])) < 1e-9);
  QVERIFY(std::isnan(view->totals()[0].tss));  // an operator file has no TSS
  view->replot();
  QTest::mouseClick(view, Qt::LeftButton, {}, view->cellCenter(0, 1).toPoint());
  QCOMPARE(w.tabs()->currentIndex(), 0);
  QCOMPARE(w.currentHead(), 1);
  QCOMPARE(w.layerTree()->currentItem()->text(0), QStringLiteral("head 1"));
}

void TestMainWindow::dropOpensFile() {
  Window win;
  MainWindow& w = win.w;
  QVERIFY(openAndWait(win, kOperatorFile));
  const QString other = QStringLiteral(ESS_TEST_DATA_DIR "/gla_d4_L64.safetensors");
  auto* mime = new QMimeData;
  mime->setUrls({QUrl::fromLocalFile(other)});
  QSignalSpy opened(w.document(), &Document::opened);
  QDragEnterEvent enter(QPoint(100, 100), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(&w, &enter);
  QVERIFY(enter.isAccepted());
  QDropEvent drop(QPointF(100, 100), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(&w, &drop);
  QVERIFY(opened.wait(kTimeout));
  QCOMPARE(w.document()->path(), other);
  QCOMPARE(QSettings().value("recentFiles").toStringList().value(0), QFileInfo(other).absoluteFilePath());
  delete mime;
}

void TestMainWindow::exportsFromMainWindow() {
  Window win;
  MainWindow& w = win.w;
  QVERIFY(openAndWait(win, kOperatorFile));
  QTRY_COMPARE_WITH_TIMEOUT(w.heatmapView()->length(), 64, kTimeout);
  QTRY_VERIFY_WITH_TIMEOUT(!w.curveView()->series().isEmpty(), kTimeout);
  QTRY_VERIFY_WITH_TIMEOUT(w.spectrumView()->dataSplit() == w.splitPoint()->split(), kTimeout);
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  for (PlotView* v : {static_cast<PlotView*>(w.heatmapView()), static_cast<PlotView*>(w.curveView()),
                      static_cast<PlotView*>(w.spectrumView())}) {
    const QString base = dir.filePath(v->figureName());
    QString error;
    QVERIFY2(w.exportView(v, base + ".png", {900, 600, 150}, &error), qPrintable(error));
    QImage img(base + ".png");
    QVERIFY(!img.isNull());
    QCOMPARE(img.size(), QSize(900, 600));
    QVERIFY2(w.exportView(v, base + ".pdf", {600, 400}, &error), qPrintable(error));
    QFile pdf(base + ".pdf");
    QVERIFY(pdf.open(QIODevice::ReadOnly));
    QVERIFY(pdf.read(5).startsWith("%PDF"));
    QVERIFY2(w.exportView(v, base + ".svg", {600, 400}, &error), qPrintable(error));
    QVERIFY(isSvg(base + ".svg"));
    QVERIFY2(w.exportView(v, base + ".csv", {}, &error), qPrintable(error));
    QVERIFY(QFileInfo(base + ".csv").size() > 20);
  }
  // The heatmap CSV holds the matrix: header plus 64 rows.
  QFile csv(dir.filePath("heatmap.csv"));
  QVERIFY(csv.open(QIODevice::ReadOnly));
  QCOMPARE(csv.readAll().count('\n'), 65);
}

// File > Export View (Ctrl+E) offers every view under its own name and preselects the current
// tab's; from the Position tab it writes the position view's CSV under a position file name.
void TestMainWindow::exportFollowsTab() {
  Window win;
  MainWindow& w = win.w;
  QVERIFY(openAndWait(win, kOperatorFile));
  QTRY_COMPARE_WITH_TIMEOUT(w.heatmapView()->length(), 64, kTimeout);
  QTRY_VERIFY_WITH_TIMEOUT(!w.curveView()->series().isEmpty(), kTimeout);
  const QStringList names = w.exportViewNames();
  QCOMPARE(names.size(), w.views().size());
  QCOMPARE(names.value(w.views().indexOf(w.positionView())), QStringLiteral("ESS over position"));
  QCOMPARE(names.value(w.views().indexOf(w.heatmapView())), QStringLiteral("Heatmap of T"));
  QCOMPARE(names.value(w.views().indexOf(w.layerView())), QStringLiteral("Layer comparison"));

  // Head tab: the heatmap, or the curve once clicked; a view of another tab clicked last
  // does not carry over.
  QCOMPARE(w.exportPreselection(), static_cast<PlotView*>(w.heatmapView()));
  QTest::mouseClick(w.curveView(), Qt::LeftButton, {}, w.curveView()->axisRect()->rect().center());
  QCOMPARE(w.exportPreselection(), static_cast<PlotView*>(w.curveView()));
  w.tabs()->setCurrentIndex(1);
  QCOMPARE(w.exportPreselection(), static_cast<PlotView*>(w.layerView()));
  QCOMPARE(w.suggestedExportName(w.layerView(), "png"), QStringLiteral("softmax_attention_h2_L64_layers.png"));
  w.tabs()->setCurrentIndex(2);
  QCOMPARE(w.exportPreselection(), static_cast<PlotView*>(w.positionView()));
  QTest::mouseClick(w.positionView(), Qt::LeftButton, {}, w.positionView()->rect().center());
  w.tabs()->setCurrentIndex(0);
  QCOMPARE(w.exportPreselection(), static_cast<PlotView*>(w.heatmapView()));
  QCOMPARE(w.suggestedExportName(w.heatmapView(), "csv"),
           QStringLiteral("softmax_attention_h2_L64_layer0_head0_heatmap.csv"));

  w.tabs()->setCurrentIndex(2);
  QTRY_COMPARE_WITH_TIMEOUT(w.positionView()->rowCount(), 1, kTimeout);
  QCOMPARE(w.suggestedExportName(w.positionView(), "csv"),
           QStringLiteral("softmax_attention_h2_L64_layer0_head0_position.csv"));
  w.positionAllLayersBox()->setChecked(true);
  QCOMPARE(w.suggestedExportName(w.positionView(), "svg"),
           QStringLiteral("softmax_attention_h2_L64_position_all_layers.svg"));
  w.positionAllLayersBox()->setChecked(false);
  QTRY_COMPARE_WITH_TIMEOUT(w.positionView()->rowCount(), 1, kTimeout);

  // Through the menu: Ctrl+E's dialog shows "ESS over position"; CSV; the file dialog
  // suggests the position file name; the file written is the position view's CSV.
  QAction* exportAction = nullptr;
  for (QAction* a : w.findChildren<QAction*>())
    if (a->shortcut() == QKeySequence(QStringLiteral("Ctrl+E"))) exportAction = a;
  QVERIFY(exportAction);
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const QString out = dir.filePath("softmax_attention_h2_L64_layer0_head0_position.csv");
  QString shownView, suggested;
  int viewCount = 0;
  bool sawDialog = false, sawFileDialog = false;
  QTimer poll;
  poll.setInterval(50);
  connect(&poll, &QTimer::timeout, this, [&] {
    QWidget* modal = QApplication::activeModalWidget();
    if (auto* d = qobject_cast<ExportDialog*>(modal); d && !sawDialog) {
      sawDialog = true;
      shownView = d->viewBox()->currentText();
      viewCount = d->viewBox()->count();
      d->formatBox()->setCurrentIndex(d->formatBox()->findData(int(figure::Format::Csv)));
      d->accept();
    } else if (auto* f = qobject_cast<QFileDialog*>(modal); f && !sawFileDialog) {
      sawFileDialog = true;
      suggested = QFileInfo(f->selectedFiles().value(0)).fileName();
      f->setDirectory(dir.path());         // the suggested name, in the temporary folder
      static_cast<QDialog*>(f)->accept();  // QFileDialog::accept() checks the name
    }
  });
  poll.start();
  exportAction->trigger();
  poll.stop();
  QVERIFY(sawDialog);
  QCOMPARE(shownView, QStringLiteral("ESS over position"));
  QCOMPARE(viewCount, w.views().size());
  QVERIFY(sawFileDialog);
  QCOMPARE(suggested, QStringLiteral("softmax_attention_h2_L64_layer0_head0_position.csv"));
  QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
  QFile csv(out);
  QVERIFY2(csv.open(QIODevice::ReadOnly), qPrintable(out));
  const QList<QByteArray> lines = csv.readAll().split('\n');
  QCOMPARE(lines.value(0), QByteArray("layer,split,token,tolerance_ess,entropy_ess"));
  QCOMPARE(lines.value(1).left(4), QByteArray("0,1,"));
}

// A text input with newlines shows on one line (newline as ⏎) in the controls' "Current" label
// and the status bar, elided to the label's width, the full text in the tooltip; the panel's
// layout does not move.
void TestMainWindow::inputLabelsOnOneLine() {
  Window win;
  MainWindow& w = win.w;
  QVERIFY(openAndWait(win, QStringLiteral(ESS_TEST_DATA_DIR "/hf/gpt2_torch")));
  QLabel* current = w.controls()->currentInputLabel();
  QTRY_VERIFY(current->isVisible() && current->width() > 0);
  const int singleLineHeight = current->sizeHint().height();
  const QString text = QStringLiteral("the cat.\nthe end");
  QVERIFY(applyTextThroughBox(w, text, kTimeout));
  QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
  QCOMPARE(w.document()->inputSpec(), QStringLiteral("text:") + text);
  for (QLabel* label : {current, w.fileLabel()}) {
    QVERIFY2(!label->text().contains(QLatin1Char('\n')), qPrintable(label->text()));
    QVERIFY2(label->text().contains(QStringLiteral("⏎")) || label->text().endsWith(QStringLiteral("…")),
             qPrintable(label->text()));
    QVERIFY2(label->toolTip().contains(QStringLiteral("text:") + text), qPrintable(label->toolTip()));
  }
  QCOMPARE(current->text(), QStringLiteral("text:the cat.⏎the end"));
  QCOMPARE(current->sizeHint().height(), singleLineHeight);
  const int panelWidth = w.controls()->width();

  // A long input (this model reads 16 tokens at most: shown as the document would show it):
  // elided to the width, the panel keeps its width; a narrow window elides the status bar.
  const QString longSpec =
      QStringLiteral("text:") + QStringLiteral("the cat the end ").repeated(40) + QStringLiteral("\nthe end");
  w.controls()->setInputState(true, longSpec, 0, 16);
  w.resize(900, 700);
  QTRY_COMPARE(w.width(), 900);
  QCoreApplication::processEvents();
  QVERIFY2(current->text().endsWith(QStringLiteral("…")), qPrintable(current->text()));
  QVERIFY(current->toolTip().contains(longSpec));
  QCOMPARE(current->sizeHint().height(), singleLineHeight);
  QVERIFY(w.controls()->width() <= panelWidth);
  for (QLabel* label : {current, w.fileLabel()}) {
    QVERIFY2(label->fontMetrics().horizontalAdvance(label->text()) <= label->contentsRect().width(),
             qPrintable(label->text()));
    QVERIFY(!label->text().contains(QLatin1Char('\n')));
  }
  QVERIFY2(w.fileLabel()->text().endsWith(QStringLiteral("…")), qPrintable(w.fileLabel()->text()));
}

// Apply text with an empty box says why nothing happens, and asks for nothing.
void TestMainWindow::applyEmptyTextSaysSo() {
  Window win;
  MainWindow& w = win.w;
  QVERIFY(openAndWait(win, QStringLiteral(ESS_TEST_DATA_DIR "/hf/gpt2_torch")));
  const QString spec = w.document()->inputSpec();
  QSignalSpy requested(w.controls(), &ControlsPanel::inputRequested);
  w.controls()->textEdit()->clear();
  w.controls()->applyTextButton()->click();
  QVERIFY2(w.statusBar()->currentMessage().contains(QStringLiteral("type a text first")),
           qPrintable(w.statusBar()->currentMessage()));
  QCOMPARE(requested.count(), 0);
  // Ctrl+Return in the text box does the same.
  w.statusBar()->clearMessage();
  w.activateWindow();
  QVERIFY(QTest::qWaitForWindowActive(&w));
  w.controls()->textEdit()->setFocus();
  QTest::keyClick(w.controls()->textEdit(), Qt::Key_Return, Qt::ControlModifier);
  QVERIFY2(w.statusBar()->currentMessage().contains(QStringLiteral("type a text first")),
           qPrintable(w.statusBar()->currentMessage()));
  QCOMPARE(requested.count(), 0);
  QCOMPARE(w.document()->inputSpec(), spec);
}

void TestMainWindow::opensDemoCheckpoint() {
  if (!QDir(kDemoDir).exists()) QSKIP("no bundled demo checkpoint (resources/demo/hybrid)");
  Window win;
  MainWindow& w = win.w;
  QVERIFY(openAndWait(win, kDemoDir));
  QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
  const int layers = w.document()->layerCount();
  QVERIFY(layers >= 1);
  QCOMPARE(w.layerTree()->topLevelItemCount(), layers);
  QVERIFY(w.document()->info().needsInput);
  // Last layer, last head.
  QTreeWidgetItem* last = w.layerTree()->topLevelItem(layers - 1);
  w.layerTree()->setCurrentItem(last->child(last->childCount() - 1));
  QCOMPARE(w.currentLayer(), layers - 1);
  QTRY_VERIFY_WITH_TIMEOUT(
      w.heatmapView()->length() > 1 && w.heatmapView()->title().contains(QStringLiteral("layer %1").arg(layers - 1)),
      kTimeout);
  const int L = w.heatmapView()->length();
  w.splitSlider()->setValue(L / 3);
  QTRY_VERIFY_WITH_TIMEOUT(viewsAgree(w, L / 3), kTimeout);
  QTest::keyClick(w.heatmapView(), Qt::Key_Right, Qt::ShiftModifier);
  QTRY_VERIFY_WITH_TIMEOUT(viewsAgree(w, std::min(L - 1, L / 3 + 10)), kTimeout);

  // A new input: an MQAR sample with another seed.
  QSignalSpy inputChanged(w.document(), &Document::inputChanged);
  w.controls()->specEdit()->setText(QStringLiteral("random:seed=3,len=%1").arg(std::min(L, 48)));
  QTest::keyClick(w.controls()->specEdit(), Qt::Key_Return);
  QVERIFY(inputChanged.wait(kTimeout));
  QTRY_COMPARE_WITH_TIMEOUT(w.heatmapView()->length(), std::min(L, 48), kTimeout);
  // A bad spec is an error; the input stays.
  const QString spec = w.document()->inputSpec();
  w.controls()->specEdit()->setText(QStringLiteral("tokens:1,x"));
  QTest::keyClick(w.controls()->specEdit(), Qt::Key_Return);
  QTRY_COMPARE_WITH_TIMEOUT(win.errors.size(), 1, kTimeout);
  QCOMPARE(w.document()->inputSpec(), spec);

  // Layer comparison of every layer.
  QSignalSpy ready(w.document(), &Document::layerSummaryReady);
  w.tabs()->setCurrentIndex(1);
  QVERIFY(ready.count() > 0 || ready.wait(kTimeout));
  QCOMPARE(w.layerView()->values().size(), layers);
}

void TestMainWindow::longCurveShowsProgressAndCancels() {
  // A dense random causal operator long enough that its curve takes seconds: the strided
  // curve arrives first, progress is reported, and cancel stops the rest.
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const QString path = dir.filePath("random_L700.safetensors");
  ess::OperatorData op;
  op.heads = 1;
  op.length = 700;
  op.values.assign(size_t(op.length) * op.length, 0.0);
  std::mt19937 rng(7);
  std::normal_distribution<double> normal;
  for (int r = 0; r < op.length; ++r)
    for (int c = 0; c <= r; ++c) op.values[size_t(r) * op.length + c] = normal(rng);
  ess::writeOperatorFile(path.toStdString(), op);

  Window win;
  MainWindow& w = win.w;
  QSignalSpy curveReady(w.document(), &Document::curveReady);
  QSignalSpy progress(w.document(), &Document::progressChanged);
  QSignalSpy cancelled(w.document(), &Document::cancelled);
  QVERIFY(openAndWait(win, path));
  QTRY_COMPARE_WITH_TIMEOUT(w.heatmapView()->length(), 700, kTimeout);
  QVERIFY(w.document()->isBusy());
  QTRY_VERIFY_WITH_TIMEOUT(progress.count() > 0 || !w.document()->isBusy(), kTimeout);
  if (!w.document()->isBusy()) QSKIP("the whole curve finished before it could be cancelled");
  // The strided first pass came before the full one.
  QVERIFY(curveReady.count() >= 1);
  QCOMPARE(curveReady.first().at(1).toBool(), false);
  QVERIFY(w.curveView()->title().contains("strided"));
  w.document()->cancel();
  QTRY_VERIFY_WITH_TIMEOUT(!w.document()->isBusy(), kTimeout);
  QVERIFY(cancelled.count() == 1 || curveReady.last().at(1).toBool());
  QVERIFY(win.errors.isEmpty());
  // The window still works after the cancel: the split moves and the spectrum follows.
  w.splitSlider()->setValue(100);
  QTRY_VERIFY_WITH_TIMEOUT(w.spectrumView()->dataSplit() == 100, kTimeout);
}

// A deep layer's operator is mostly the forward pass to it: its blocks drive the progress bar
// (ess::ProgressScope), so choosing layer 31 of an 8B model shows how far it has got.
void TestMainWindow::forwardPassDrivesTheProgressBar() {
  Window win;
  MainWindow& w = win.w;
  QVERIFY(openAndWait(win, QStringLiteral(ESS_TEST_DATA_DIR "/hf/qwen2_torch")));
  QVERIFY(w.document()->layerCount() == 2);
  QSignalSpy progress(w.document(), &Document::progressChanged);
  QSignalSpy ready(w.document(), &Document::operatorReady);
  w.document()->requestOperator(1);  // one block (layer 0) before layer 1's mixer input
  QTRY_VERIFY_WITH_TIMEOUT(w.document()->operatorData(1) != nullptr, kTimeout);
  bool blocks = false;
  for (const QList<QVariant>& p : progress) blocks = blocks || (p.at(0).toLongLong() == 1 && p.at(1).toLongLong() == 1);
  QVERIFY2(blocks, "no progress report of the forward pass (1 of 1 blocks)");
  QVERIFY(win.errors.isEmpty());
}

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
