// Test helpers that write small safetensors files with Qt only (no project code), so a test of
// a reader never writes its input with the code under test. Format: 8-byte little-endian header
// length, the JSON header padded to 8 bytes, then the data (github.com/huggingface/safetensors).
#pragma once
#include <QByteArray>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QString>
#include <QTemporaryDir>

namespace testfiles {

/// Writes `header` (name -> {dtype, shape, data_offsets}) and `data` to `path`; returns `path`.
inline QString writeSafetensors(const QString& path, const QJsonObject& header, const QByteArray& data) {
  QByteArray json = QJsonDocument(header).toJson(QJsonDocument::Compact);
  while (json.size() % 8) json.append(' ');
  QFile f(path);
  f.open(QIODevice::WriteOnly);
  const quint64 n = quint64(json.size());
  QByteArray len(8, '\0');
  for (int i = 0; i < 8; ++i) len[i] = char((n >> (8 * i)) & 0xff);
  f.write(len + json + data);
  return path;
}

/// An operator file [1, L, L] whose causal entries are all 1e308: finite (every open-time check
/// passes), but the Hankel blocks' norms overflow inside LAPACK when the ESS is computed.
inline QString overflowingOperatorFile(const QTemporaryDir& dir, int L = 16) {
  QByteArray data;
  for (int r = 0; r < L; ++r)
    for (int c = 0; c < L; ++c) {
      const double v = c <= r ? 1e308 : 0.0;
      data.append(reinterpret_cast<const char*>(&v), sizeof v);
    }
  QJsonObject header;
  header["operator"] = QJsonObject{
      {"dtype", "F64"}, {"shape", QJsonArray{1, L, L}}, {"data_offsets", QJsonArray{0, qint64(data.size())}}};
  return writeSafetensors(dir.filePath("overflow.safetensors"), header, data);
}

}  // namespace testfiles
