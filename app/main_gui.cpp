// ess-explorer: the ESS Explorer desktop app. Opens the path given on the command line, or
// the bundled demo checkpoint when there is none.
#include <QApplication>
#include <QDir>
#include <QIcon>
#include <QTimer>

#include "main_window.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  Q_INIT_RESOURCE(resources);  // the .qrc lives in the static library essgui
  QApplication::setApplicationName(QStringLiteral("ESS Explorer"));
  QApplication::setOrganizationName(QStringLiteral("ess-explorer"));

  QApplication::setWindowIcon(QIcon(QStringLiteral(":/ess/icons/ess-explorer.svg")));

  MainWindow window;
  window.show();

  QString path;
  const QStringList args = QApplication::arguments();
  if (args.size() > 1) {
    path = args.at(1);
  } else {
    const QString demo = QStringLiteral(ESS_DEMO_DIR "/hybrid");
    if (QDir(demo).exists()) path = demo;
  }
  if (!path.isEmpty()) QTimer::singleShot(0, &window, [&window, path] { window.openPath(path); });
  return app.exec();
}
