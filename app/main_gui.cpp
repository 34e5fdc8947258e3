// ess-explorer: the ESS Explorer desktop app. Opens the path given on the command line, or
// the bundled demo checkpoint when there is none; --input sets the input of a model once it is
// open (an `ess` --input spec, e.g. text:... or textfile:PATH), --tab picks the view. A session
// file (File > Save Session; recognised by its content) is restored instead, with its own
// input and tab.
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QIcon>
#include <QTabWidget>
#include <QTimer>
#include <cstdio>

#include "document.h"
#include "main_window.h"
#include "session_file.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  Q_INIT_RESOURCE(resources);  // the .qrc lives in the static library essgui
  QApplication::setApplicationName(QStringLiteral("ESS Explorer"));
  QApplication::setOrganizationName(QStringLiteral("ess-explorer"));

  QApplication::setWindowIcon(QIcon(QStringLiteral(":/ess/icons/ess-explorer.svg")));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("Effective state-size of sequence-model operators"));
  parser.addHelpOption();
  parser.addPositionalArgument(QStringLiteral("path"),
                               QStringLiteral("checkpoint folder, operator or generator file, or a session file "
                                              "(default: the demo)"));
  const QCommandLineOption input(QStringLiteral("input"),
                                 QStringLiteral("input of a model: tokens:1,2,3 | random:seed=S,len=L | "
                                                "mqar:... | text:TEXT | textfile:PATH"),
                                 QStringLiteral("spec"));
  const QCommandLineOption tab(QStringLiteral("tab"), QStringLiteral("view to show: head, layers or position"),
                               QStringLiteral("name"));
  parser.addOption(input);
  parser.addOption(tab);
  parser.process(app);

  MainWindow window;
  // The tabs' own names ("head", "layers", "position"), so that a new tab needs no change here.
  QStringList tabNames;
  for (int i = 0; i < window.tabs()->count(); ++i) tabNames << window.tabs()->tabText(i).toLower();
  if (parser.isSet(tab) && !tabNames.contains(parser.value(tab).toLower())) {
    const QString expected = tabNames.size() > 1 ? tabNames.mid(0, tabNames.size() - 1).join(QStringLiteral(", ")) +
                                                       QStringLiteral(" or ") + tabNames.last()
                                                 : tabNames.join(QString());
    fprintf(stderr, "error: --tab: expected %s, got '%s'\n", qPrintable(expected), qPrintable(parser.value(tab)));
    return 2;
  }
  window.show();

  QString path;
  const QStringList args = parser.positionalArguments();
  if (!args.isEmpty()) {
    path = args.first();
  } else {
    const QString demo = QStringLiteral(ESS_DEMO_DIR "/hybrid");
    if (QDir(demo).exists()) path = demo;
  }
  if (!path.isEmpty() && sessionfile::looksLikeSession(path) && (parser.isSet(input) || parser.isSet(tab))) {
    fprintf(stderr, "error: %s is a session file, which sets the input and the tab itself (drop --input and --tab)\n",
            qPrintable(path));
    return 2;
  }
  if (parser.isSet(tab)) {
    const QString name = parser.value(tab).toLower();
    for (int i = 0; i < window.tabs()->count(); ++i)
      if (window.tabs()->tabText(i).toLower() == name) window.tabs()->setCurrentIndex(i);
  }
  if (parser.isSet(input)) {
    const QString spec = parser.value(input);
    QObject::connect(
        window.document(), &Document::opened, &window,
        [&window, spec] {
          if (window.document()->info().needsInput) window.document()->setInput(spec);
        },
        Qt::SingleShotConnection);
  }
  if (!path.isEmpty()) QTimer::singleShot(0, &window, [&window, path] { window.openPath(path); });
  return app.exec();
}
