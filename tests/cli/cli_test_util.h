// Runs the real `ess` binary (ESS_CLI) for the command-line test suites.
#pragma once
#include <QProcess>
#include <QString>
#include <QStringList>

namespace clitest {

/// Exit status (-1 when it crashed or timed out), standard output and standard error of a run.
struct Run {
  int status = -1;
  QString out;
  QString err;
};

inline Run ess(const QStringList& args) {
  QProcess p;
  p.start(QStringLiteral(ESS_CLI), args);
  if (!p.waitForFinished(600000)) return {};
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardOutput()),
          QString::fromUtf8(p.readAllStandardError())};
}

}  // namespace clitest
