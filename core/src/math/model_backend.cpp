// Session::open and summarizeFile: operator and generator safetensors files here, without
// LibTorch; everything else through the model library, loaded on first use (ess/model_backend.h).
#include "ess/model_backend.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "ess/error.h"
#include "ess/ess_engine.h"
#include "ess/file_identity.h"
#include "ess/generator_form.h"
#include "ess/safetensors_io.h"
#include "session_base.h"

#ifndef ESS_MODELS_LIBRARY_PATH
#define ESS_MODELS_LIBRARY_PATH "libesscore.so"
#endif

namespace ess {

namespace fs = std::filesystem;

namespace {

std::atomic<const ModelBackend*> linkedBackend{nullptr};

/// The arrays of `path` when it is an operator or generator safetensors file; false for anything
/// else, including files this reader refuses (the model library then reports them as before).
bool readOperatorFile(const std::string& path, NamedArrays& out) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  const std::string name = fs::path(path).filename().string();
  if (name.size() >= 11 && name.compare(name.size() - 11, 11, ".index.json") == 0) return false;
  std::string head(12, '\0');
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(in.gcount()));
  }
  // The test of readTensorFile (ess/checkpoint.h): JSON at byte 8 and no zip signature.
  if (head.size() < 9 || head[8] != '{' || (head[0] == 'P' && head[1] == 'K')) return false;
  try {
    NamedArrays t = readSafetensorArrays(path);
    if (!t.find("operator") && !isGeneratorFile(t)) return false;
    out = std::move(t);
    return true;
  } catch (const InputError&) {
    return false;
  }
}

}  // namespace

void setLinkedModelBackend(const ModelBackend* backend) { linkedBackend.store(backend); }

const ModelBackend& modelBackend() {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  if (const ModelBackend* b = linkedBackend.load()) return *b;
  const char* env = std::getenv("ESS_MODELS_LIBRARY");
  const std::string path = env && *env ? env : ESS_MODELS_LIBRARY_PATH;
  // RTLD_GLOBAL: LibTorch's own plugins (CUDA) look up its symbols globally.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!handle) {
    const char* e = dlerror();
    throw InputError("the model library (LibTorch) could not be loaded: " + std::string(e ? e : path) +
                     "; set ESS_MODELS_LIBRARY to the path of libesscore.so");
  }
  using Entry = const ModelBackend* (*)();
  auto entry = reinterpret_cast<Entry>(dlsym(handle, "ess_model_backend"));
  const ModelBackend* b = entry ? entry() : nullptr;
  if (!b) throw InputError("the model library " + path + " has no ess_model_backend entry point");
  linkedBackend.store(b);
  return *b;
}

namespace {

// The path exists, or an InputError with the system's reason (a symbolic-link loop, a name
// too long and a folder without search permission are not "no such file").
void requireExists(const std::string& path) {
  struct stat sb;
  if (::stat(path.c_str(), &sb) == 0) return;
  if (errno == ENOENT) throw InputError(path + ": no such file or directory");
  throw InputError(path + ": cannot open: " + std::strerror(errno));
}

// The core's boundary: errors from the libraries below (LibTorch, the C++ library) become one
// sentence naming the file instead of their own words.
template <class F>
auto translated(const std::string& path, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const InputError&) {
    throw;
  } catch (const UsageError&) {
    throw;
  } catch (const Cancelled&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw InputError(path + ": not enough memory to open it (the file's sizes need more than this machine has)");
  } catch (const std::exception&) {
    throw InputError(path + ": could not be read (the file is damaged or not a supported checkpoint)");
  }
}

FileSummary summarizeFileUnchecked(const std::string& path) {
  NamedArrays t;
  if (!readOperatorFile(path, t)) return modelBackend().summarize(path);
  FileSummary s;
  for (const auto& [name, a] : t.arrays) {
    TensorSummary ts;
    ts.name = name;
    ts.dtype = dtypeName(a.dtype());
    for (int64_t i = 0; i < a.dim(); ++i) ts.shape.push_back(a.size(i));
    s.tensors.push_back(ts);
  }
  s.info = openOperatorSession(path, t, Session::kDefaultMemoryBudget)->info();
  return s;
}

}  // namespace

std::unique_ptr<Session> Session::open(const std::string& path, size_t memoryBudget) {
  requireExists(path);
  return translated(path, [&]() -> std::unique_ptr<Session> {
    const OpenedFiles read;  // every file the readers open, to notice later changes
    NamedArrays t;
    std::unique_ptr<Session> session;
    if (readOperatorFile(path, t)) {
      useSingleThreadedBlas();
      session = openOperatorSession(path, t, memoryBudget);
    } else {
      session = modelBackend().openSession(path, memoryBudget);
    }
    session->sourceFiles_.insert(session->sourceFiles_.begin(), read.files().begin(), read.files().end());
    return session;
  });
}

FileSummary summarizeFile(const std::string& path) {
  requireExists(path);
  return translated(path, [&] { return summarizeFileUnchecked(path); });
}

}  // namespace ess
