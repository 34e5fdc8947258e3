// Tests of the ESS-over-position view (issue 5): the view's series equal the Document's curves
// at every split, the x axis labels are the session's token labels (thinned when dense, every
// one when zoomed in), marked delimiters sit where the labels match, the all-layers mode has one
// row per layer equal to the layer totals, the CSV export; the heatmap's token ticks and hover
// text; the GUI text box, which sets a `text:` input on a byte-level ess-lm of vocabulary 256.
#include "ess/model.h"  // LibTorch before Qt
#include "ess/session.h"

#include <QApplication>
#include <QCheckBox>
#include <QDropEvent>
#include <QFile>
#include <QFontMetrics>
#include <QLineEdit>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>

#include "controls_panel.h"
#include "document.h"
#include "gui_test_helpers.h"
#include "heatmap_view.h"
#include "main_window.h"
#include "position_ess_view.h"

namespace {

constexpr int kTimeout = 300000;
const QString kDemoDir = QStringLiteral(ESS_DEMO_DIR "/hybrid");
// 24 tokens of the demo's vocabulary (64); 9 and 33 recur, to be marked.
const QList<int> kTokens = {1, 9, 4, 33, 12, 9, 7, 50, 33, 2, 9, 18, 21, 9, 5, 33, 60, 3, 9, 11, 40, 8, 33, 6};

struct Window : TestWindow {
  Window() : TestWindow(kTimeout) {}
};

int tabIndex(QTabWidget* tabs, const QString& text) {
  for (int i = 0; i < tabs->count(); ++i)
    if (tabs->tabText(i) == text) return i;
  return -1;
}

// The row's series equals `tol`/`ent` at `splits` exactly (the view shows the Document's numbers).
bool seriesEquals(const EssSeries& s, const std::vector<int>& splits, const std::vector<double>& tol,
                  const std::vector<double>& ent) {
  if (s.splits.size() != int(splits.size()) || s.tolerance.size() != int(tol.size())) return false;
  for (int i = 0; i < s.splits.size(); ++i)
    if (s.splits[i] != splits[i] || s.tolerance[i] != tol[i] || s.entropy[i] != ent[i]) return false;
  return true;
}

}  // namespace

class TestPositionView : public QObject {
  Q_OBJECT

 private slots:
  void parsesMarks() {
    QCOMPARE(PositionEssView::parseMarks(QStringLiteral("\\n, ., <eos>")),
             QStringList({QStringLiteral("\n"), QStringLiteral("."), QStringLiteral("<eos>")}));
    QCOMPARE(PositionEssView::parseMarks(QStringLiteral("\\,, \\t,,a b ")),
             QStringList({QStringLiteral(","), QStringLiteral("\t"), QStringLiteral("a b")}));
    QVERIFY(PositionEssView::parseMarks(QStringLiteral(" , ")).isEmpty());
    QCOMPARE(PositionEssView::displayToken(QStringLiteral("a\nb")), QStringLiteral("a\\nb"));
  }

  void thinsLabelsWhenDenseAndShowsAllWhenZoomed() {
    PositionEssView view;
    view.resize(600, 400);
    view.show();
    QStringList tokens;
    EssSeries s;
    for (int i = 0; i < 300; ++i) {
      tokens << QStringLiteral("tok%1").arg(i);
      if (i >= 1) s.splits << i, s.tolerance << i % 7, s.entropy << 0.5 * (i % 5);
    }
    view.setRows({{0, s}}, tokens);
    QCoreApplication::processEvents();
    view.replot();
    const QVector<int> dense = view.visibleLabelPositions();
    QVERIFY(dense.size() > 3);
    QVERIFY2(dense.size() < 60, qPrintable(QString::number(dense.size())));
    // Neighbouring labels are at least one label width apart on screen.
    QCPAxis* x = view.xAxis;
    const QFontMetrics fm(x->tickLabelFont());
    for (int i = 1; i < dense.size(); ++i)
      QVERIFY(x->coordToPixel(dense[i] + 0.5) - x->coordToPixel(dense[i - 1] + 0.5) >=
              fm.horizontalAdvance(tokens[dense[i - 1]]));
    // Zoomed in to 10 tokens: every one is labelled, with its own text.
    x->setRange(100, 110);
    const QVector<int> zoomed = view.visibleLabelPositions();
    QCOMPARE(zoomed, QVector<int>({100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110}).mid(0, zoomed.size()));
    QVERIFY(zoomed.size() >= 10);
    auto* ticker = static_cast<QCPAxisTickerText*>(x->ticker().data());
    QCOMPARE(ticker->ticks().value(100.5), QStringLiteral("tok100"));
  }

  void positionTabFollowsDocumentOnDemo() {
    Window win;
    MainWindow& w = win.w;
    QVERIFY(win.open(kDemoDir));
    QStringList ids;
    for (int t : kTokens) ids << QString::number(t);
    QVERIFY(win.setInput(QStringLiteral("tokens:") + ids.join(',')));
    QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
    const QStringList labels = w.document()->tokenLabels();
    QCOMPARE(labels.size(), kTokens.size());

    const int tab = tabIndex(w.tabs(), QStringLiteral("Position"));
    QVERIFY(tab >= 0);
    QCOMPARE(tabIndex(w.tabs(), QStringLiteral("Head")), 0);
    w.tabs()->setCurrentIndex(tab);
    PositionEssView* view = w.positionView();
    QVERIFY(w.views().contains(view));

    // Head 0 of layer 0 (the selection after opening): the Document's curve at every split.
    QTRY_VERIFY_WITH_TIMEOUT(view->rowCount() == 1 && w.document()->curveData(0) &&
                                 view->rows()[0].series.splits.size() == kTokens.size() - 1,
                             kTimeout);
    const ess::CurveData* c = w.document()->curveData(0);
    QVERIFY(seriesEquals(view->rows()[0].series, c->splits, c->tolerance[0], c->entropy[0]));
    QCOMPARE(view->tokens(), labels);
    QVERIFY(!view->visibleLabelPositions().isEmpty());
    for (int i : view->visibleLabelPositions()) QVERIFY(i >= 0 && i < labels.size());

    // The layer total.
    w.selectLayerTotal(0);
    QTRY_VERIFY_WITH_TIMEOUT(view->rowCount() == 1 && view->rows()[0].series.isTotal(), kTimeout);
    ess::HeadTotal t;
    QVERIFY(w.document()->total(0, 0, w.document()->headCount(0) - 1, &t));
    QVERIFY(seriesEquals(view->rows()[0].series, t.splits, t.tolerance, t.entropy));

    // Marks: positions whose label is 9 or 33.
    w.positionMarksEdit()->setText(QStringLiteral("9, 33"));
    QVector<int> expected;
    for (int i = 0; i < kTokens.size(); ++i)
      if (labels[i] == QLatin1String("9") || labels[i] == QLatin1String("33")) expected << i;
    QVERIFY(expected.size() >= 8);
    QCOMPARE(view->markedPositions(), expected);

    // Every layer: one row per layer, each the layer's total.
    w.positionAllLayersBox()->setChecked(true);
    const int layers = w.document()->layerCount();
    QVERIFY(layers >= 2);
    QTRY_COMPARE_WITH_TIMEOUT(view->rowCount(), layers, kTimeout);
    for (int l = 0; l < layers; ++l) {
      QCOMPARE(view->rows()[l].layer, l);
      QVERIFY(w.document()->total(l, 0, w.document()->headCount(l) - 1, &t));
      QVERIFY(seriesEquals(view->rows()[l].series, t.splits, t.tolerance, t.entropy));
    }
    QCOMPARE(view->markedPositions(), expected);

    // CSV: header, one line per layer and split, the token before the split.
    const QStringList lines = view->toCsv().split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.first(), QStringLiteral("layer,split,token,tolerance_ess,entropy_ess"));
    QCOMPARE(lines.size(), 1 + layers * (kTokens.size() - 1));
    const QStringList first = lines[1].split(',');
    QCOMPARE(first.value(0), QStringLiteral("0"));
    QCOMPARE(first.value(1), QStringLiteral("1"));
    QCOMPARE(first.value(2), labels[0]);
    QCOMPARE(first.value(3).toDouble(), view->rows()[0].series.tolerance[0]);
    const QStringList last = lines.last().split(',');
    QCOMPARE(last.value(0), QString::number(layers - 1));
    QCOMPARE(last.value(1), QString::number(kTokens.size() - 1));
    QCOMPARE(last.value(2), labels[kTokens.size() - 2]);
    QTemporaryDir out;
    QString error;
    QVERIFY2(w.exportView(view, out.filePath("pos.png"), {800, 600}, &error), qPrintable(error));
    QVERIFY(QImage(out.filePath("pos.png")).width() == 800);
    QVERIFY2(w.exportView(view, out.filePath("pos.csv"), {}, &error), qPrintable(error));

    // The heatmap's hover names the tokens; token ids (a tokens: input) stay off its axes,
    // which keep positions (text inputs put their tokens there: sentencePieceCheckpointWithText).
    HeatmapView* heat = w.heatmapView();
    QCOMPARE(heat->tokenLabels(), labels);
    QTRY_VERIFY_WITH_TIMEOUT(heat->length() == kTokens.size(), kTimeout);
    QCOMPARE(heat->cellText(3, 1), QStringLiteral("row 3 '%1', column 1 '%2'").arg(labels[3], labels[1]));
    QCOMPARE(heat->tokenLabelStep(Qt::Horizontal), 0);
    QCOMPARE(heat->xAxis->label(), QStringLiteral("input position c (column)"));
    QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
  }

  void textBoxSetsTextInput() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    ess::ModelConfig cfg;
    cfg.vocabSize = 256;
    cfg.dModel = 16;
    cfg.numHeads = 2;
    cfg.maxLength = 32;
    cfg.mlpHidden = 16;
    cfg.mixers = {"softmax_attention"};
    ess::EssLm model(cfg, 3);
    ess::saveEssLm(model, dir.path().toStdString());

    Window win;
    MainWindow& w = win.w;
    QVERIFY(win.open(dir.path()));
    const QString before = w.document()->inputSpec();
    const QString text = QStringLiteral("Hi.\nyo.");
    QVERIFY(applyTextThroughBox(w, text, kTimeout));
    QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
    QCOMPARE(w.document()->inputSpec(), QStringLiteral("text:") + text);
    QCOMPARE(w.document()->sequenceLength(), text.size());

    // The labels are the session's labels of that input.
    auto session = ess::Session::open(dir.path().toStdString());
    session->setInput((QStringLiteral("text:") + text).toStdString());
    QStringList expected;
    for (const std::string& l : session->tokenLabels()) expected << QString::fromStdString(l);
    QCOMPARE(expected.size(), text.size());
    QCOMPARE(w.document()->tokenLabels(), expected);
    w.tabs()->setCurrentIndex(tabIndex(w.tabs(), QStringLiteral("Position")));
    QTRY_VERIFY_WITH_TIMEOUT(w.positionView()->rowCount() == 1, kTimeout);
    QCOMPARE(w.positionView()->tokens(), expected);

    // Too long for the model: an error, and the previous input stays.
    w.controls()->textEdit()->setPlainText(QString(100, QLatin1Char('x')));
    w.controls()->applyTextButton()->click();
    QTRY_COMPARE_WITH_TIMEOUT(win.errors.size(), 1, kTimeout);
    QVERIFY2(win.errors.first().startsWith(QLatin1String("Input: 100 tokens")), qPrintable(win.errors.first()));
    QCOMPARE(w.document()->inputSpec(), QStringLiteral("text:") + text);
    QVERIFY(before != w.document()->inputSpec());
  }

  // A Hugging Face checkpoint (the PyTorch-written GPT-2 fixture with its tiny tokenizer.json):
  // a text from the text box is tokenized by the checkpoint's tokenizer, the Position view shows
  // its pieces along the axis ("th", "e", "·", ..., newline as "⏎") and marks the newline.
  void huggingFaceCheckpointWithText() {  // tokenizer.json: no libsentencepiece, runs under ASan too
    Window win;
    MainWindow& w = win.w;
    QVERIFY(win.open(QStringLiteral(ESS_TEST_DATA_DIR "/hf/gpt2_torch")));
    const QString text = QStringLiteral("the cat.\nthe end");
    QVERIFY(applyTextThroughBox(w, text, kTimeout));
    QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
    auto session = ess::Session::open(ESS_TEST_DATA_DIR "/hf/gpt2_torch");
    session->setInput((QStringLiteral("text:") + text).toStdString());
    QStringList expected;
    for (const std::string& l : session->tokenLabels()) expected << QString::fromStdString(l);
    QVERIFY2(expected.contains(QStringLiteral("th")) && expected.contains(QStringLiteral("⏎")),
             qPrintable(expected.join(QLatin1Char('|'))));
    QCOMPARE(w.document()->tokenLabels(), expected);
    w.tabs()->setCurrentIndex(tabIndex(w.tabs(), QStringLiteral("Position")));
    QTRY_VERIFY_WITH_TIMEOUT(w.positionView()->rowCount() == 1 && w.document()->curveData(0), kTimeout);
    QCOMPARE(w.positionView()->tokens(), expected);
    QVERIFY(w.positionView()->markedPositions().contains(expected.indexOf(QStringLiteral("⏎"))));
  }

  // A Llama checkpoint whose tokenizer is SentencePiece's tokenizer.model (the PyTorch-written
  // llama_spm_torch fixture, tests/data/hf/make_llama_spm.py): libsentencepiece tokenizes the
  // text in the GUI process next to LibTorch; BOS comes first as tokenizer_config.json asks;
  // the pieces, spaces shown as "·" and the newline byte as "⏎", spell the text; the heatmap's
  // axes are titled by tokens.
  void sentencePieceCheckpointWithText() {
    Window win;
    MainWindow& w = win.w;
    QVERIFY(win.open(QStringLiteral(ESS_TEST_DATA_DIR "/hf/llama_spm_torch")));
    QVERIFY(applyTextThroughBox(w, QStringLiteral("the cat sat\non the mat"), kTimeout));
    QVERIFY2(win.errors.isEmpty(), qPrintable(win.errors.join('\n')));
    QStringList labels = w.document()->tokenLabels();
    QCOMPARE(labels.value(0), QStringLiteral("<s>"));
    QCOMPARE(labels.mid(1).join(QString()), QStringLiteral("·the·cat·sat⏎on·the·mat"));
    QCOMPARE(w.document()->sequenceLength(), labels.size());
    HeatmapView* heat = w.heatmapView();
    QTRY_COMPARE_WITH_TIMEOUT(heat->length(), int(labels.size()), kTimeout);  // the new operator is shown
    QCOMPARE(heat->tokenLabels(), labels);
    QCOMPARE(heat->xAxis->label(), QStringLiteral("input token at column c"));
    QCOMPARE(heat->yAxis->label(), QStringLiteral("output token at row r"));
    QVERIFY(heat->tokenLabelStep(Qt::Horizontal) >= 1);
    QVERIFY(heat->tokenLabelStep(Qt::Vertical) >= 1);
    w.tabs()->setCurrentIndex(tabIndex(w.tabs(), QStringLiteral("Position")));
    QTRY_VERIFY_WITH_TIMEOUT(w.positionView()->rowCount() == 1 && w.document()->curveData(0), kTimeout);
    QCOMPARE(w.positionView()->tokens(), labels);

    // The same text as a file dropped on the window: the input becomes textfile:<path>.
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("cat.txt"));
    {
      QFile f(file);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write("the cat sat\non the mat");
    }
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(file)});
    QSignalSpy fromFile(w.document(), &Document::inputChanged);
    QDragEnterEvent enter(QPoint(100, 100), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&w, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(100, 100), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&w, &drop);
    QVERIFY(fromFile.wait(kTimeout));
    QCOMPARE(w.document()->inputSpec(), QStringLiteral("textfile:") + file);
    QCOMPARE(w.document()->tokenLabels(), labels);
  }
};

QTEST_MAIN(TestPositionView)
#include "test_position_view.moc"
