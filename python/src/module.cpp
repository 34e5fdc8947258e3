// ess_explorer._core: the pybind11 binding of the ESS engines and sessions (python/README in
// docs/python.md). Thin: every number comes from the sessions and engines `ess` uses
// (ess/session.h, ess/array_session.h); the Python package (ess_explorer/__init__.py) turns
// arguments into arrays and option strings, and the returned dicts into result objects.
//
// Threads: long calls run on a worker thread while the calling thread waits with the GIL
// released; every ~20 ms it takes the GIL back to call the `progress` callable (on the caller's
// thread, so tqdm and notebooks see ordinary calls) and to run PyErr_CheckSignals, which turns
// Ctrl+C into KeyboardInterrupt (signals are only delivered to the main thread, never to the
// engine's workers). Either raises the cancel flag the engines check, and the worker is joined
// before the exception propagates.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "cli_flag.h"
#include "ess/aggregate.h"
#include "ess/array_session.h"
#include "ess/error.h"
#include "ess/memory_budget.h"
#include "ess/model_backend.h"
#include "ess/run.h"
#include "ess/safetensors_io.h"
#include "ess/session.h"
#include "ess/version.h"
#include "ess/view_policy.h"

namespace py = pybind11;

namespace {

/// An output file could not be written: OSError in Python.
struct WriteError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The data pointer of the last array handed to a session, for the zero-copy tests.
std::atomic<std::uintptr_t> lastViewPointer{0};

/// An ess::Array viewing the buffer of `a` (C-contiguous float64, float32 or float16, checked by
/// the package), kept alive by a reference to `a`; no copy.
ess::Array viewOf(const py::array& a, const std::string& name) {
  const py::dtype dt = a.dtype();
  if (dt.kind() != 'f' || !(a.flags() & py::array::c_style))
    throw ess::UsageError(name + ": expected a C-contiguous floating-point array");
  const ess::ArrayDType type = dt.itemsize() == 8   ? ess::ArrayDType::F64
                               : dt.itemsize() == 4 ? ess::ArrayDType::F32
                               : dt.itemsize() == 2 ? ess::ArrayDType::F16
                                                    : throw ess::UsageError(name + ": unsupported floating dtype");
  std::vector<int64_t> shape(a.shape(), a.shape() + a.ndim());
  auto* owner = new py::object(a);
  std::shared_ptr<void> storage(owner, [](void* p) {
    py::gil_scoped_acquire gil;  // the last holder may be a session destroyed without the GIL
    delete static_cast<py::object*>(p);
  });
  void* data = const_cast<void*>(a.data());
  lastViewPointer = reinterpret_cast<std::uintptr_t>(data);
  return ess::Array(type, std::move(shape), data, std::move(storage));
}

/// A float64 numpy array that owns `values` (moved, no copy) with `shape`.
py::array_t<double> ownedArray(std::vector<double>&& values, const std::vector<py::ssize_t>& shape) {
  auto* v = new std::vector<double>(std::move(values));
  py::capsule owner(v, [](void* p) { delete static_cast<std::vector<double>*>(p); });
  return py::array_t<double>(shape, v->data(), owner);
}

/// A copy of a float64 ess::Array as a numpy array (generators: the session keeps its own).
py::object copyOf(const ess::Array& a) {
  if (!a.defined()) return py::none();
  const ess::Array d = a.toFloat64();
  std::vector<py::ssize_t> shape(d.shape().begin(), d.shape().end());
  return ownedArray(std::vector<double>(d.doubles(), d.doubles() + d.numel()), shape);
}

py::array_t<double> table(const std::vector<std::vector<double>>& rows, size_t columns) {
  std::vector<double> v;
  v.reserve(rows.size() * columns);
  for (const auto& r : rows) v.insert(v.end(), r.begin(), r.end());
  return ownedArray(std::move(v), {static_cast<py::ssize_t>(rows.size()), static_cast<py::ssize_t>(columns)});
}

/// Runs `work(progress, cancel)` on a worker thread with the GIL released (see the top comment).
template <class R>
R runReleased(const std::function<R(const ess::ProgressFn&, const std::atomic<bool>*)>& work,
              const py::object& progress) {
  struct Shared {
    std::mutex m;
    std::condition_variable cv;
    bool finished = false;
    std::atomic<long> done{0}, total{0};
    std::atomic<bool> cancel{false};
    std::exception_ptr error;
    std::optional<R> result;
  };
  auto sh = std::make_shared<Shared>();
  const ess::ProgressFn hook = [sh](long done, long total) {
    sh->total = total;
    long prev = sh->done.load();
    while (done > prev && !sh->done.compare_exchange_weak(prev, done)) {
    }
  };
  std::thread worker([sh, &work, hook] {
    try {
      sh->result.emplace(work(hook, &sh->cancel));
    } catch (...) {
      sh->error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(sh->m);
      sh->finished = true;
    }
    sh->cv.notify_all();
  });
  auto stop = [&] {
    sh->cancel = true;
    py::gil_scoped_release release;
    worker.join();
  };
  long reported = 0;
  for (;;) {
    bool finished;
    {
      py::gil_scoped_release release;
      std::unique_lock<std::mutex> lock(sh->m);
      sh->cv.wait_for(lock, std::chrono::milliseconds(20), [&] { return sh->finished; });
      finished = sh->finished;
    }
    if (PyErr_CheckSignals() != 0) {
      py::error_already_set e;  // KeyboardInterrupt (or what a signal handler raised)
      stop();
      throw e;
    }
    const long done = sh->done.load();
    if (!progress.is_none() && done > reported) {
      reported = done;
      try {
        progress(done, sh->total.load());
      } catch (...) {
        stop();
        throw;
      }
    }
    if (finished) break;
  }
  {
    py::gil_scoped_release release;
    worker.join();
  }
  if (sh->error) std::rethrow_exception(sh->error);
  return std::move(*sh->result);
}

/// EssOptions from the keyword arguments (already spelled as the CLI's option values).
ess::EssOptions optionsFrom(double tolerance, const std::string& normalization, const std::string& splits,
                            const std::string& dtype, const std::string& algorithm, int threads) {
  ess::EssOptions o;
  if (!(tolerance >= 0))
    throw ess::UsageError("tolerance", {" must not be negative, got " + std::to_string(tolerance)});
  if (threads < 0) throw ess::UsageError("threads", {" must not be negative"});
  o.tolerance(tolerance).threads(threads);
  o.normalization(ess::parseNormalization(normalization));
  o.dtype(ess::parseDType(dtype));
  o.algorithm(ess::parseAlgorithm(algorithm));
  if (!splits.empty()) o.splits(ess::parseSplitRange(splits));
  return o;
}

/// The curve of one layer as a dict of numpy arrays: splits [S], tolerance/entropy/tss [H, S].
py::dict curveDict(const ess::CurveData& c) {
  py::dict d;
  d["layer"] = c.layer;
  d["length"] = c.length;
  d["splits"] = py::array_t<int64_t>(static_cast<py::ssize_t>(c.splits.size()),
                                     std::vector<int64_t>(c.splits.begin(), c.splits.end()).data());
  d["tolerance"] = table(c.tolerance, c.splits.size());
  d["entropy"] = table(c.entropy, c.splits.size());
  d["tss"] = table(c.tss, c.splits.size());
  return d;
}

/// Refuses an operator with a nonzero entry above the diagonal (c > r): ESS reads only the
/// blocks below it, so such an operator is not the layer's causal map (a transposed or
/// bidirectional matrix passed by mistake).
void requireCausal(const ess::Array& op, const std::string& name) {
  const ess::Array t = op.toFloat64();
  const int64_t L = t.size(-1), H = t.numel() / (L * L);
  const double* p = t.doubles();
  for (int64_t h = 0; h < H; ++h)
    for (int64_t r = 0; r < L; ++r)
      for (int64_t c = r + 1; c < L; ++c)
        if (const double v = p[(h * L + r) * L + c]; v != 0.0)
          throw ess::UsageError(name + " is not causal: " + name + "[" + std::to_string(h) + ", " + std::to_string(r) +
                                ", " + std::to_string(c) + "] = " + std::to_string(v) +
                                " lies above the diagonal (head, row, column); an operator maps inputs c <= r to "
                                "output r (pass numpy.tril(T))");
}

std::unique_ptr<ess::Session> operatorSession(const py::array& T) {
  if (T.ndim() != 2 && T.ndim() != 3)
    throw ess::UsageError("T has " + std::to_string(T.ndim()) + " dimensions; expected [L, L] or [H, L, L]");
  if (T.shape(T.ndim() - 1) != T.shape(T.ndim() - 2))
    throw ess::UsageError("T is not square: shape " + viewOf(T, "T").shapeText() + "; expected [L, L] or [H, L, L]");
  ess::NamedArrays t;
  t.add("operator", viewOf(T, "T"));
  // The operator is already in memory: no budget applies to it.
  auto s = ess::openArraySession(t, "T", std::numeric_limits<size_t>::max());
  requireCausal(t.arrays[0].second, "T");
  return s;
}

std::unique_ptr<ess::Session> generatorSession(const py::array& C, const py::array& B, const py::array& logA,
                                               const std::optional<py::array>& D, size_t budget) {
  ess::NamedArrays t;
  t.add("C", viewOf(C, "C"));
  t.add("B", viewOf(B, "B"));
  t.add("log_a", viewOf(logA, "log_a"));
  if (D) t.add("D", viewOf(*D, "D"));
  return ess::openArraySession(t, "generators", budget);
}

py::dict computeCurve(ess::Session& s, int layer, const ess::EssOptions& o, const py::object& progress) {
  const ess::CurveData c = runReleased<ess::CurveData>(
      [&](const ess::ProgressFn& p, const std::atomic<bool>* cancel) { return s.curve(layer, o, p, cancel); },
      progress);
  return curveDict(c);
}

py::array_t<double> spectrumOf(ess::Session& s, int layer, int head, int split, const std::string& dtype) {
  ess::EssOptions o;
  o.dtype(ess::parseDType(dtype));
  std::vector<double> sv;
  {
    py::gil_scoped_release release;
    sv = s.spectrum(layer, head, split, o);
  }
  const auto n = static_cast<py::ssize_t>(sv.size());
  return ownedArray(std::move(sv), {n});
}

/// `ess info --format json` of `path`, as the same JSON text (app/cli/cmd_info.cpp).
std::string infoJson(const std::string& path, bool tensors) {
  ess::FileSummary s;
  {
    py::gil_scoped_release release;
    s = ess::summarizeFile(path);
  }
  nlohmann::ordered_json j;
  j["file"] = s.info.path;
  j["architecture"] = s.info.architecture;
  j["layers"] = nlohmann::ordered_json::array();
  for (const auto& l : s.info.layers) {
    nlohmann::ordered_json lj;
    lj["index"] = l.index;
    lj["mixer"] = l.mixer;
    lj["heads"] = l.heads;
    lj["value_channels"] = l.valueChannels;
    lj["tss"] = l.tss.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(l.tss);
    if (!l.ssmRemoves.empty()) lj["ssm_removes"] = l.ssmRemoves;
    j["layers"].push_back(lj);
  }
  if (s.info.length > 0) j["length"] = s.info.length;
  if (s.info.needsInput) {
    j["vocab_size"] = s.info.vocabSize;
    j["max_length"] = s.info.maxLength;
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path dir = fs::is_directory(path, ec) ? fs::path(path) : fs::path(path).parent_path();
    if (fs::exists(dir / "tokenizer.json", ec) || fs::exists(dir / "tokenizer.model", ec)) {
      try {
        j["tokenizer"] = ess::modelBackend().tokenizerSummary(dir.string());
      } catch (const ess::InputError& e) {
        j["tokenizer"] = "unusable: " + ess::cli::cliMessage(e);
      }
    }
  }
  if (tensors) {
    j["tensors"] = nlohmann::ordered_json::array();
    for (const auto& t : s.tensors) j["tensors"].push_back({{"name", t.name}, {"dtype", t.dtype}, {"shape", t.shape}});
  }
  return j.dump();
}

/// An opened file (ess::Session::open); one call at a time (a mutex taken without the GIL).
class PySession {
 public:
  PySession(const std::string& path, double budgetBytes) : path_(path) {
    if (!(budgetBytes > 0)) throw ess::UsageError("memory_budget", {" must be positive"});
    py::gil_scoped_release release;
    s_ = ess::Session::open(path, static_cast<size_t>(budgetBytes));
  }

  py::list layers() const {
    py::list out;
    for (const auto& l : s_->info().layers) {
      py::dict d;
      d["index"] = l.index;
      d["mixer"] = l.mixer;
      d["heads"] = l.heads;
      d["value_channels"] = l.valueChannels;
      d["tss"] = l.tss.empty() ? py::object(py::none()) : py::object(py::str(l.tss));
      d["ssm_removes"] = l.ssmRemoves.empty() ? py::object(py::none()) : py::object(py::str(l.ssmRemoves));
      out.append(d);
    }
    return out;
  }
  py::dict source() const {
    const ess::SourceInfo& i = s_->info();
    py::dict d;
    d["path"] = i.path;
    d["architecture"] = i.architecture;
    d["needs_input"] = i.needsInput;
    d["length"] = i.length;
    d["description"] = i.description;
    return d;
  }
  std::string path() const { return path_; }

  void setInput(const std::optional<std::string>& spec) {
    if (!spec || *spec == s_->input()) return;
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(m_);
    s_->setInput(*spec);
  }
  std::string input() const { return s_->input(); }

  /// "block" or "ssm" (ess/operator_scope.h); ValueError for another, or ssm where undefined.
  void setOperator(const std::string& scope) {
    const ess::OperatorScope o = ess::parseOperatorScope(scope);
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(m_);
    s_->setOperatorScope(o);
  }
  std::string operatorScope() const { return ess::operatorScopeName(s_->operatorScope()); }
  /// Why this session (A, `nameA`) and `other` (B) cannot be compared (ess::layoutMismatch,
  /// the text `ess curve --compare` prints); "" when their layouts agree.
  std::string layoutMismatch(PySession& other, const std::string& nameA, const std::string& nameB) {
    const int la = lengthOf(), lb = other.lengthOf();
    return ess::layoutMismatch(s_->info(), la, nameA, other.s_->info(), lb, nameB);
  }

  py::tuple tokens(const std::optional<std::string>& spec) {
    setInput(spec);
    const std::vector<long> ids = s_->tokens();
    std::vector<std::string> labels;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(m_);
      labels = s_->tokenLabels();
    }
    py::array_t<int64_t> a(static_cast<py::ssize_t>(ids.size()));
    for (size_t i = 0; i < ids.size(); ++i) a.mutable_at(static_cast<py::ssize_t>(i)) = ids[i];
    return py::make_tuple(a, labels);
  }

  py::array_t<double> operatorOf(int layer, const std::optional<std::string>& spec) {
    setInput(spec);
    ess::OperatorData op;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(m_);
      op = s_->operatorOf(layer);
    }
    const py::ssize_t H = op.heads, L = op.length;
    return ownedArray(std::move(op.values), {H, L, L});
  }

  py::object generators(int layer, const std::optional<std::string>& spec) {
    setInput(spec);
    ess::GeneratorArrays g;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(m_);
      g = ess::layerGenerators(*s_, layer);
    }
    if (g.heads() == 0) return py::none();
    py::dict d;
    d["C"] = copyOf(g.C);
    d["B"] = copyOf(g.B);
    d["log_a"] = copyOf(g.logA);
    d["D"] = copyOf(g.D);
    return d;
  }

  py::dict curve(int layer, const std::optional<std::string>& spec, const std::string& heads, bool total,
                 double tolerance, const std::string& normalization, const std::string& splits,
                 const std::string& dtype, const std::string& algorithm, int threads, const py::object& progress) {
    setInput(spec);
    const ess::EssOptions o = optionsFrom(tolerance, normalization, splits, dtype, algorithm, threads);
    const auto& infoLayers = s_->info().layers;
    if (layer < 0 || layer >= static_cast<int>(infoLayers.size()))
      throw ess::UsageError("layer",
                            {" " + std::to_string(layer) + " is outside 0.." +
                             std::to_string(static_cast<int>(infoLayers.size()) - 1) + " (" + s_->info().path + ")"});
    const std::vector<int> picked = ess::parseHeadRange(heads, infoLayers[layer].heads, layer);
    std::unique_lock<std::mutex> lock(m_, std::defer_lock);
    {
      py::gil_scoped_release release;
      lock.lock();
    }
    const ess::CurveData c = runReleased<ess::CurveData>(
        [&](const ess::ProgressFn& p, const std::atomic<bool>* cancel) { return s_->curve(layer, o, p, cancel); },
        progress);
    py::dict d = curveDict(c);
    d["heads"] = picked;
    d["mixer"] = infoLayers[layer].mixer;
    d["value_channels"] = infoLayers[layer].valueChannels;
    if (total) {
      const ess::HeadTotal t = ess::sumHeads(c, infoLayers[layer], picked);
      const auto S = static_cast<py::ssize_t>(t.splits.size());
      d["total_tolerance"] = ownedArray(std::vector<double>(t.tolerance), {S});
      d["total_entropy"] = ownedArray(std::vector<double>(t.entropy), {S});
      d["total_tss"] = ownedArray(std::vector<double>(t.tss), {S});
      d["total_utilization"] = ownedArray(std::vector<double>(t.utilization), {S});
    }
    return d;
  }

  py::array_t<double> spectrum(int layer, int head, int split, const std::optional<std::string>& spec,
                               const std::string& dtype) {
    setInput(spec);
    std::unique_lock<std::mutex> lock(m_, std::defer_lock);
    {
      py::gil_scoped_release release;
      lock.lock();
    }
    return spectrumOf(*s_, layer, head, split, dtype);
  }

 private:
  /// L: the file's, or the current input's (models).
  int lengthOf() {
    if (s_->info().length > 0) return s_->info().length;
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(m_);
    return static_cast<int>(s_->tokens().size());
  }

  std::string path_;
  std::unique_ptr<ess::Session> s_;
  std::mutex m_;
};

/// A training run (ess/run.h) as plain Python values: path, kind, checkpoints [{path, name,
/// step}], metrics [{step, values}], metrics_note.
py::dict runDict(const std::string& path) {
  ess::TrainingRun r;
  {
    py::gil_scoped_release release;
    r = ess::openTrainingRun(path);
  }
  py::dict d;
  d["path"] = r.path;
  d["kind"] = r.kind;
  py::list checkpoints, metrics;
  for (const ess::RunCheckpoint& c : r.checkpoints) {
    py::dict e;
    e["path"] = c.path;
    e["name"] = c.name;
    e["step"] = c.step >= 0 ? py::object(py::int_(c.step)) : py::object(py::none());
    checkpoints.append(e);
  }
  for (const ess::RunMetrics& m : r.metrics) {
    py::dict e;
    e["step"] = m.step;
    e["values"] = m.values;
    metrics.append(e);
  }
  d["checkpoints"] = checkpoints;
  d["metrics"] = metrics;
  d["metrics_note"] = r.metricsNote;
  return d;
}

void writeArrays(const std::string& path, const ess::NamedArrays& t) {
  try {
    py::gil_scoped_release release;
    ess::writeSafetensorArrays(path, t);
  } catch (const ess::InputError& e) {
    throw WriteError(e.what());
  }
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "The compiled core of ess_explorer (use the package's functions, not these).";
  py::register_exception<WriteError>(m, "WriteError", PyExc_OSError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ess::Cancelled& e) {
      PyErr_SetString(PyExc_KeyboardInterrupt, "cancelled");
    } catch (const ess::Error& e) {
      // The CLI's message with options and fields written as their keys, the keyword
      // arguments' names (`layer 5 is outside 0..1`, not `--layer 5 ...`).
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });

  m.def("version", [] { return ess::versionString(); });
  m.def(
      "_debug_last_view_pointer", [] { return static_cast<std::uintptr_t>(lastViewPointer.load()); },
      "Data pointer of the last array handed to the engines without a copy (tests).");

  m.def(
      "operator_curve",
      [](const py::array& T, double tolerance, const std::string& normalization, const std::string& splits,
         const std::string& dtype, const std::string& algorithm, int threads, const py::object& progress) {
        const ess::EssOptions o = optionsFrom(tolerance, normalization, splits, dtype, algorithm, threads);
        auto s = operatorSession(T);
        return computeCurve(*s, 0, o, progress);
      },
      py::arg("T"), py::arg("tolerance"), py::arg("normalization"), py::arg("splits"), py::arg("dtype"),
      py::arg("algorithm"), py::arg("threads"), py::arg("progress"));
  m.def(
      "generator_curve",
      [](const py::array& C, const py::array& B, const py::array& logA, const std::optional<py::array>& D,
         double tolerance, const std::string& normalization, const std::string& splits, const std::string& dtype,
         const std::string& algorithm, int threads, double budget, const py::object& progress) {
        const ess::EssOptions o = optionsFrom(tolerance, normalization, splits, dtype, algorithm, threads);
        auto s = generatorSession(C, B, logA, D, static_cast<size_t>(budget));
        return computeCurve(*s, 0, o, progress);
      },
      py::arg("C"), py::arg("B"), py::arg("log_a"), py::arg("D"), py::arg("tolerance"), py::arg("normalization"),
      py::arg("splits"), py::arg("dtype"), py::arg("algorithm"), py::arg("threads"), py::arg("budget"),
      py::arg("progress"));
  m.def(
      "operator_spectrum",
      [](const py::array& T, int head, int split, const std::string& dtype) {
        auto s = operatorSession(T);
        return spectrumOf(*s, 0, head, split, dtype);
      },
      py::arg("T"), py::arg("head"), py::arg("split"), py::arg("dtype"));
  m.def(
      "generator_spectrum",
      [](const py::array& C, const py::array& B, const py::array& logA, const std::optional<py::array>& D, int head,
         int split) {
        auto s = generatorSession(C, B, logA, D, ess::defaultMemoryBudget());
        return spectrumOf(*s, 0, head, split, "float64");
      },
      py::arg("C"), py::arg("B"), py::arg("log_a"), py::arg("D"), py::arg("head"), py::arg("split"));
  m.def(
      "save_operator",
      [](const std::string& path, const py::array& T, const std::map<std::string, std::string>& metadata) {
        // The checks of a read-back operator file, before anything is written.
        auto s = operatorSession(T);
        ess::NamedArrays t;
        t.add("operator", viewOf(T, "T"));
        t.metadata = metadata;
        writeArrays(path, t);
      },
      py::arg("path"), py::arg("T"), py::arg("metadata"));
  m.def(
      "save_generators",
      [](const std::string& path, const py::array& C, const py::array& B, const py::array& logA,
         const std::optional<py::array>& D, const std::map<std::string, std::string>& metadata) {
        auto s = generatorSession(C, B, logA, D, ess::defaultMemoryBudget());
        ess::NamedArrays t;
        t.add("C", viewOf(C, "C"));
        t.add("B", viewOf(B, "B"));
        t.add("log_a", viewOf(logA, "log_a"));
        if (D) t.add("D", viewOf(*D, "D"));
        t.metadata = metadata;
        writeArrays(path, t);
      },
      py::arg("path"), py::arg("C"), py::arg("B"), py::arg("log_a"), py::arg("D"), py::arg("metadata"));
  m.def("info_json", &infoJson, py::arg("path"), py::arg("tensors"));
  m.def("default_memory_budget", [] { return static_cast<double>(ess::defaultMemoryBudget()); });
  m.def("open_run", &runDict, py::arg("path"));
  m.def("checkpoint_name", &ess::checkpointName, py::arg("path"));
  m.def(
      "checkpoint_step",
      [](const std::string& path) -> py::object {
        const int64_t step = ess::stepFromCheckpointName(ess::checkpointName(path));
        return step >= 0 ? py::object(py::int_(step)) : py::object(py::none());
      },
      py::arg("path"));

  py::class_<PySession>(m, "Session")
      .def(py::init<const std::string&, double>(), py::arg("path"), py::arg("memory_budget"))
      .def("layers", &PySession::layers)
      .def("source", &PySession::source)
      .def("path", &PySession::path)
      .def("input", &PySession::input)
      .def("set_input", &PySession::setInput, py::arg("spec"))
      .def("set_operator", &PySession::setOperator, py::arg("scope"))
      .def("operator_scope", &PySession::operatorScope)
      .def("layout_mismatch", &PySession::layoutMismatch, py::arg("other"), py::arg("name_a"), py::arg("name_b"))
      .def("tokens", &PySession::tokens, py::arg("spec"))
      .def("operator", &PySession::operatorOf, py::arg("layer"), py::arg("spec"))
      .def("generators", &PySession::generators, py::arg("layer"), py::arg("spec"))
      .def("curve", &PySession::curve, py::arg("layer"), py::arg("spec"), py::arg("heads"), py::arg("total"),
           py::arg("tolerance"), py::arg("normalization"), py::arg("splits"), py::arg("dtype"), py::arg("algorithm"),
           py::arg("threads"), py::arg("progress"))
      .def("spectrum", &PySession::spectrum, py::arg("layer"), py::arg("head"), py::arg("split"), py::arg("spec"),
           py::arg("dtype"));
}
