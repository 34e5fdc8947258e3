#include "session_file.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <cmath>
#include <exception>

#include "colormaps.h"
#include "ess/atomic_file.h"
#include "ess/input_file.h"
#include "heatmap_view.h"
#include "view_data.h"

namespace sessionfile {
namespace {

constexpr qint64 kMaxBytes = qint64(1) << 20;  // a session is a few hundred bytes
const QString kTextFile = QStringLiteral("textfile:");

/// `path` relative to `folder` when it lies below it, else absolute.
QString relativeIfBelow(const QString& path, const QString& folder) {
  const QString abs = QFileInfo(path).absoluteFilePath();
  const QString dir = QDir(folder).absolutePath();
  if (abs.startsWith(dir + QLatin1Char('/'))) return QDir(dir).relativeFilePath(abs);
  return abs;
}

QString resolve(const QString& path, const QString& folder) {
  return QDir::cleanPath(QDir(folder).absoluteFilePath(path));
}

QJsonArray rangeJson(const SessionState::Range& r) { return QJsonArray{r.lower, r.upper}; }

/// Reads fields of one object; the first problem is kept as a field error.
class Reader {
 public:
  Reader(const QString& path, const QJsonObject& root) : path_(path), root_(root) {}
  bool ok() const { return error_.isEmpty(); }
  const QString& error() const { return error_; }
  void fail(const QString& field, const QString& problem) {
    if (ok()) error_ = fieldError(path_, field, problem);
  }

  /// The value at a dotted key ("view.colormap"); undefined when absent.
  QJsonValue at(const QString& key) const {
    QJsonValue v = root_;
    for (const QString& part : key.split(QLatin1Char('.'))) {
      if (!v.isObject()) return QJsonValue(QJsonValue::Undefined);
      v = v.toObject().value(part);
    }
    return v;
  }
  bool has(const QString& key) const { return !at(key).isUndefined(); }

  void text(const QString& key, QString* out, bool required = false) {
    const QJsonValue v = at(key);
    if (v.isUndefined()) {
      if (required) fail(key, QStringLiteral("is missing"));
      return;
    }
    if (!v.isString()) return fail(key, QStringLiteral("must be a string"));
    *out = v.toString();
  }
  void boolean(const QString& key, bool* out) {
    const QJsonValue v = at(key);
    if (v.isUndefined()) return;
    if (!v.isBool()) return fail(key, QStringLiteral("must be true or false"));
    *out = v.toBool();
  }
  void integer(const QString& key, int* out, int minimum, bool required = false) {
    const QJsonValue v = at(key);
    if (v.isUndefined()) {
      if (required) fail(key, QStringLiteral("is missing"));
      return;
    }
    const double d = v.toDouble(std::nan(""));
    if (!v.isDouble() || d != std::floor(d) || std::abs(d) > 1e9)
      return fail(key, QStringLiteral("must be an integer"));
    if (d < minimum) return fail(key, QStringLiteral("%1 is below %2").arg(qint64(d)).arg(minimum));
    *out = int(d);
  }
  void range(const QString& key, SessionState::Range* out) {
    const QJsonValue v = at(key);
    if (v.isUndefined()) return;
    const QJsonArray a = v.toArray();
    if (!v.isArray() || a.size() != 2 || !a[0].isDouble() || !a[1].isDouble() || !std::isfinite(a[0].toDouble()) ||
        !std::isfinite(a[1].toDouble()) || !(a[0].toDouble() < a[1].toDouble()))
      return fail(key, QStringLiteral("must be [lower, upper] with lower < upper"));
    *out = {true, a[0].toDouble(), a[1].toDouble()};
  }

 private:
  QString path_;
  QJsonObject root_;
  QString error_;
};

}  // namespace

QString fieldError(const QString& sessionPath, const QString& field, const QString& problem) {
  return QStringLiteral("Session file %1: field \"%2\" %3.").arg(sessionPath, field, problem);
}

bool looksLikeSession(const QString& path) {
  const QFileInfo info(path);
  if (!info.isFile() || info.size() > kMaxBytes) return false;
  try {
    const std::string bytes = ess::readRegularFile(path.toStdString(), "session file", kMaxBytes);
    const QByteArray text = QByteArray::fromStdString(bytes).trimmed();
    return text.startsWith('{') && text.contains(kFormat);
  } catch (const std::exception&) {
    return false;
  }
}

QByteArray toJson(const SessionState& s, const QString& sessionPath) {
  const QString folder = QFileInfo(sessionPath).absolutePath();
  QString input = s.input;
  if (input.startsWith(kTextFile)) input = kTextFile + relativeIfBelow(input.mid(kTextFile.size()), folder);
  QJsonObject root{
      {QStringLiteral("format"), QString::fromLatin1(kFormat)},
      {QStringLiteral("version"), SessionState::kVersion},
      {QStringLiteral("checkpoint"), relativeIfBelow(s.checkpoint, folder)},
      {QStringLiteral("input"), input},
      {QStringLiteral("options"), QJsonObject{{QStringLiteral("tolerance"), s.tolerance},
                                              {QStringLiteral("normalization"), s.normalization},
                                              {QStringLiteral("dtype"), s.dtype}}},
      {QStringLiteral("operator"), QString::fromLatin1(ess::operatorScopeName(s.operatorScope))},
      {QStringLiteral("selection"), QJsonObject{{QStringLiteral("kind"), s.selectionKind},
                                                {QStringLiteral("layer"), s.layer},
                                                {QStringLiteral("first"), s.first},
                                                {QStringLiteral("last"), s.last}}},
      {QStringLiteral("view"), QJsonObject{{QStringLiteral("log_scale"), s.logScale},
                                           {QStringLiteral("colormap"), s.colormap},
                                           {QStringLiteral("range"), s.colorRange},
                                           {QStringLiteral("mask_upper"), s.maskUpper},
                                           {QStringLiteral("all_heads"), s.allHeads},
                                           {QStringLiteral("position_all_layers"), s.positionAllLayers},
                                           {QStringLiteral("marks"), s.marks}}},
  };
  if (s.split > 0) root.insert(QStringLiteral("split"), s.split);
  if (!s.tab.isEmpty()) root.insert(QStringLiteral("tab"), s.tab);
  QJsonObject zoom;
  if (s.heatmapX.set && s.heatmapY.set)
    zoom.insert(QStringLiteral("heatmap"), QJsonObject{{QStringLiteral("x"), rangeJson(s.heatmapX)},
                                                       {QStringLiteral("y"), rangeJson(s.heatmapY)}});
  if (s.curveX.set) zoom.insert(QStringLiteral("ess_curve"), QJsonObject{{QStringLiteral("x"), rangeJson(s.curveX)}});
  QJsonObject spectrum;
  if (s.spectrumX.set) spectrum.insert(QStringLiteral("x"), rangeJson(s.spectrumX));
  if (s.spectrumY.set) spectrum.insert(QStringLiteral("y"), rangeJson(s.spectrumY));
  if (!spectrum.isEmpty()) zoom.insert(QStringLiteral("spectrum"), spectrum);
  if (s.positionX.set)
    zoom.insert(QStringLiteral("position"), QJsonObject{{QStringLiteral("x"), rangeJson(s.positionX)}});
  if (!zoom.isEmpty()) root.insert(QStringLiteral("zoom"), zoom);
  if (!s.compareA.isEmpty())
    root.insert(QStringLiteral("compare"), QJsonObject{{QStringLiteral("a"), relativeIfBelow(s.compareA, folder)},
                                                       {QStringLiteral("difference"), s.compareDifference}});
  return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

bool write(const QString& path, const SessionState& state, QString* error) {
  try {
    ess::writeFileAtomically(path.toStdString(), toJson(state, path).toStdString());
    return true;
  } catch (const std::exception& e) {
    if (error) *error = QString::fromStdString(e.what());
    return false;
  }
}

bool read(const QString& path, SessionState* state, QString* error) {
  const auto failWith = [error](const QString& message) {
    if (error) *error = message;
    return false;
  };
  std::string bytes;
  try {
    bytes = ess::readRegularFile(path.toStdString(), "session file", kMaxBytes);
  } catch (const std::exception& e) {
    return failWith(QStringLiteral("Session file %1").arg(QString::fromStdString(e.what())));
  }
  QJsonParseError parse;
  const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(bytes), &parse);
  if (parse.error != QJsonParseError::NoError)
    return failWith(QStringLiteral("Session file %1: not valid JSON at byte %2 (%3).")
                        .arg(path)
                        .arg(parse.offset)
                        .arg(parse.errorString()));
  if (!doc.isObject() || doc.object().value(QStringLiteral("format")).toString() != QLatin1String(kFormat))
    return failWith(fieldError(path, QStringLiteral("format"),
                               QStringLiteral("must be \"%1\" (this is not an ESS Explorer session)").arg(kFormat)));

  Reader r(path, doc.object());
  SessionState s;
  s.marks = QString::fromUtf8(viewdata::kDefaultMarks);
  int version = 0;
  r.integer(QStringLiteral("version"), &version, 1, true);
  if (r.ok() && version > SessionState::kVersion)
    r.fail(QStringLiteral("version"),
           QStringLiteral("%1 is newer than this ESS Explorer reads (%2)").arg(version).arg(SessionState::kVersion));
  const QString folder = QFileInfo(path).absolutePath();
  r.text(QStringLiteral("checkpoint"), &s.checkpoint, true);
  if (r.ok() && s.checkpoint.isEmpty()) r.fail(QStringLiteral("checkpoint"), QStringLiteral("is empty"));
  if (r.ok()) {
    s.checkpoint = resolve(s.checkpoint, folder);
    if (!QFileInfo::exists(s.checkpoint))
      r.fail(QStringLiteral("checkpoint"), QStringLiteral("names %1, which does not exist").arg(s.checkpoint));
  }
  r.text(QStringLiteral("input"), &s.input);
  if (s.input.startsWith(kTextFile)) s.input = kTextFile + resolve(s.input.mid(kTextFile.size()), folder);

  if (r.has(QStringLiteral("options.tolerance"))) {
    const QJsonValue t = r.at(QStringLiteral("options.tolerance"));
    if (!t.isDouble() || !(t.toDouble() > 0) || t.toDouble() > 1)
      r.fail(QStringLiteral("options.tolerance"), QStringLiteral("must be a number in (0, 1]"));
    else
      s.tolerance = t.toDouble();
  }
  r.text(QStringLiteral("options.normalization"), &s.normalization);
  if (!QStringList{QStringLiteral("max"), QStringLiteral("sum"), QStringLiteral("none")}.contains(s.normalization))
    r.fail(QStringLiteral("options.normalization"),
           QStringLiteral("must be max, sum or none, not '%1'").arg(s.normalization));
  r.text(QStringLiteral("options.dtype"), &s.dtype);
  if (!QStringList{QStringLiteral("float64"), QStringLiteral("float32")}.contains(s.dtype))
    r.fail(QStringLiteral("options.dtype"), QStringLiteral("must be float64 or float32, not '%1'").arg(s.dtype));

  QString scope = QString::fromLatin1(ess::operatorScopeName(s.operatorScope));
  r.text(QStringLiteral("operator"), &scope);
  if (scope == QLatin1String("ssm"))
    s.operatorScope = ess::OperatorScope::Ssm;
  else if (scope != QLatin1String("block"))
    r.fail(QStringLiteral("operator"), QStringLiteral("must be block or ssm, not '%1'").arg(scope));

  r.text(QStringLiteral("selection.kind"), &s.selectionKind);
  if (!QStringList{QStringLiteral("head"), QStringLiteral("group"), QStringLiteral("total")}.contains(s.selectionKind))
    r.fail(QStringLiteral("selection.kind"),
           QStringLiteral("must be head, group or total, not '%1'").arg(s.selectionKind));
  r.integer(QStringLiteral("selection.layer"), &s.layer, 0);
  r.integer(QStringLiteral("selection.first"), &s.first, 0);
  s.last = s.first;
  r.integer(QStringLiteral("selection.last"), &s.last, 0);
  if (r.ok() && s.last < s.first)
    r.fail(QStringLiteral("selection.last"), QStringLiteral("%1 is below selection.first %2").arg(s.last).arg(s.first));
  r.integer(QStringLiteral("split"), &s.split, 1);
  r.text(QStringLiteral("tab"), &s.tab);
  s.tab = s.tab.toLower();

  r.boolean(QStringLiteral("view.log_scale"), &s.logScale);
  r.text(QStringLiteral("view.colormap"), &s.colormap);
  colormaps::Map map;
  if (s.colormap != QLatin1String("auto") && !colormaps::fromName(s.colormap, &map))
    r.fail(QStringLiteral("view.colormap"), QStringLiteral("'%1' is not a colormap (auto, viridis, magma, cividis, "
                                                           "diverging)")
                                                .arg(s.colormap));
  r.text(QStringLiteral("view.range"), &s.colorRange);
  HeatmapView::ColorRange range;
  QString why;
  if (!HeatmapView::ColorRange::parse(s.colorRange.trimmed(), &range, &why))
    r.fail(QStringLiteral("view.range"), QStringLiteral("'%1': %2").arg(s.colorRange, why));
  r.boolean(QStringLiteral("view.mask_upper"), &s.maskUpper);
  r.boolean(QStringLiteral("view.all_heads"), &s.allHeads);
  r.boolean(QStringLiteral("view.position_all_layers"), &s.positionAllLayers);
  r.text(QStringLiteral("view.marks"), &s.marks);

  r.range(QStringLiteral("zoom.heatmap.x"), &s.heatmapX);
  r.range(QStringLiteral("zoom.heatmap.y"), &s.heatmapY);
  r.range(QStringLiteral("zoom.ess_curve.x"), &s.curveX);
  r.range(QStringLiteral("zoom.spectrum.x"), &s.spectrumX);
  r.range(QStringLiteral("zoom.spectrum.y"), &s.spectrumY);
  r.range(QStringLiteral("zoom.position.x"), &s.positionX);
  if (r.has(QStringLiteral("compare"))) {
    r.text(QStringLiteral("compare.a"), &s.compareA, true);
    if (r.ok() && s.compareA.isEmpty()) r.fail(QStringLiteral("compare.a"), QStringLiteral("is empty"));
    if (r.ok()) {
      s.compareA = resolve(s.compareA, folder);
      if (!QFileInfo::exists(s.compareA))
        r.fail(QStringLiteral("compare.a"), QStringLiteral("names %1, which does not exist").arg(s.compareA));
    }
    r.boolean(QStringLiteral("compare.difference"), &s.compareDifference);
  }
  if (!r.ok()) return failWith(r.error());
  *state = s;
  return true;
}

}  // namespace sessionfile
