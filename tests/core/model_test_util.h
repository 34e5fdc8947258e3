// Shared helpers of the model, mixer and session test suites: tiny configurations, MQAR token
// sequences and the checkpoint save/load round trip every mixer kind must pass.
#pragma once
#include <ATen/ATen.h>

#include <QTemporaryDir>
#include <QtTest>

#include "ess/model.h"
#include "ess/mqar.h"

namespace testutil {

/// A tiny ess-lm configuration: vocabulary 16, 2 heads, the given mixers, width `dModel`,
/// positions up to `maxLength`, MLP width 2 * dModel.
inline ess::ModelConfig tinyConfig(std::vector<std::string> mixers, int dModel = 16, int maxLength = 32) {
  ess::ModelConfig cfg;
  cfg.vocabSize = 16;
  cfg.dModel = dModel;
  cfg.numHeads = 2;
  cfg.maxLength = maxLength;
  cfg.mlpHidden = 2 * dModel;
  cfg.mixers = std::move(mixers);
  return cfg;
}

/// An MQAR sample of length `l` over `vocab` tokens (4 pairs) as a [L] int64 tensor.
inline at::Tensor mqarTokens(int64_t l, int64_t vocab, uint64_t seed = 3) {
  ess::MqarSpec s;
  s.seed = seed;
  s.length = static_cast<int>(l);
  s.pairs = 4;
  s.vocab = static_cast<int>(vocab);
  auto m = ess::makeMqar(s);
  return at::tensor(std::vector<int64_t>(m.tokens.begin(), m.tokens.end()), at::kLong);
}

/// Saves `m` as a checkpoint folder, loads it back into `*back`, and checks that the logits on
/// `t` are finite and identical and that every layer's operator is identical and lower
/// triangular. Callers return when QTest::currentTestFailed().
inline void checkSaveLoadRoundTrip(ess::EssLm& m, const at::Tensor& t, std::unique_ptr<ess::EssLm>* back) {
  QTemporaryDir tmp;
  const std::string dir = (tmp.path() + "/ckpt").toStdString();
  ess::saveEssLm(m, dir);
  *back = ess::loadEssLm(dir);
  QVERIFY((*back)->config().mixers == m.config().mixers);
  at::NoGradGuard ng;
  auto logits = m.forward(t);
  QVERIFY(at::isfinite(logits).all().item<bool>());
  QVERIFY(at::equal(logits, (*back)->forward(t)));
  for (int layer = 0; layer < m.numLayers(); ++layer) {
    auto T = (*back)->layerOperator(layer, t);
    QVERIFY(at::equal(T, m.layerOperator(layer, t)));
    QCOMPARE(T.triu(1).abs().max().item<double>(), 0.0);
  }
}

}  // namespace testutil
