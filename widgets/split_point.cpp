#include "split_point.h"

#include <algorithm>

SplitPoint::SplitPoint(QObject* parent) : QObject(parent) {}

void SplitPoint::setLength(int length) {
  length = std::max(0, length);
  const bool lengthChangedNow = length != length_;
  length_ = length;
  int s = split_;
  if (length_ < 2) {
    s = 0;
  } else if (s < 1 || s > length_ - 1) {
    s = length_ / 2;
  }
  const bool splitChangedNow = s != split_;
  split_ = s;
  if (lengthChangedNow) emit lengthChanged(length_);
  if (splitChangedNow) emit splitChanged(split_);
}

void SplitPoint::setSplit(int split) {
  if (length_ < 2) return;
  const int s = std::clamp(split, 1, length_ - 1);
  if (s == split_) return;
  split_ = s;
  emit splitChanged(split_);
}
