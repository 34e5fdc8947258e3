// SplitPoint: the one shared split s (1 <= s <= L-1) of an operator of length L that the
// heatmap, the ESS curve and the spectrum observe, so that they stay in step without knowing
// of each other. Views emit intent (splitRequested); whoever owns the SplitPoint applies it.
#pragma once
#include <QObject>

class SplitPoint : public QObject {
  Q_OBJECT
 public:
  explicit SplitPoint(QObject* parent = nullptr);

  /// Current split s; 0 while no operator is loaded (length < 2).
  int split() const { return split_; }
  /// Sequence length L of the operator the split refers to.
  int length() const { return length_; }
  int minimum() const { return length_ >= 2 ? 1 : 0; }
  int maximum() const { return length_ >= 2 ? length_ - 1 : 0; }
  bool isValid() const { return length_ >= 2; }

 public slots:
  /// Sets L; keeps the split when it is still valid, else moves it to L/2.
  void setLength(int length);
  /// Sets s, clamped to 1..L-1. Emits splitChanged only when the value changes.
  void setSplit(int split);
  /// Moves the split by `delta` (clamped).
  void step(int delta) { setSplit(split_ + delta); }

 signals:
  void splitChanged(int split);
  void lengthChanged(int length);

 private:
  int length_ = 0;
  int split_ = 0;
};
