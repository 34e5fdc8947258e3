// PyTorch zip checkpoints through a restricted unpickler: see ess/torch_checkpoint.h.
// Opcode semantics follow CPython's Lib/pickle.py (protocols 0-5); nothing from the file
// is ever executed: "calling" an allowed global only builds plain data here.
#include "ess/torch_checkpoint.h"

#include <unistd.h>
#include <zip.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <unordered_map>

#include "ess/cancel.h"
#include "ess/error.h"
#include "ess/input_file.h"

namespace ess {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw InputError(path + ": " + what); }

// ---------------------------------------------------------------------------------------
// Python values as far as weights files need them.

struct Obj;
using Ref = std::shared_ptr<Obj>;

enum class Kind { None, Bool, Int, BigInt, Float, Str, Bytes, Tuple, List, Dict, Global, Storage, Tensor };

struct Obj {
  explicit Obj(Kind k) : kind(k) {}
  Kind kind;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;                          // Str, Bytes, Global ("module.name"), Storage key
  std::vector<Ref> items;                 // Tuple, List (sets too)
  std::vector<std::pair<Ref, Ref>> dict;  // Dict and OrderedDict, insertion order
  at::Tensor tensor;                      // Tensor; Storage: its flat data
  bool handedOut = false;                 // Storage: already used whole by a tensor
};

const char* kindName(Kind k) {
  switch (k) {
    case Kind::None:
      return "None";
    case Kind::Bool:
      return "bool";
    case Kind::Int:
      return "int";
    case Kind::BigInt:
      return "int";
    case Kind::Float:
      return "float";
    case Kind::Str:
      return "str";
    case Kind::Bytes:
      return "bytes";
    case Kind::Tuple:
      return "tuple";
    case Kind::List:
      return "list";
    case Kind::Dict:
      return "dict";
    case Kind::Global:
      return "global";
    case Kind::Storage:
      return "storage";
    case Kind::Tensor:
      return "tensor";
  }
  return "?";
}

struct StorageType {
  const char* name;
  at::ScalarType dtype;
};

const StorageType kStorageTypes[] = {
    {"torch.FloatStorage", at::kFloat},       {"torch.DoubleStorage", at::kDouble}, {"torch.HalfStorage", at::kHalf},
    {"torch.BFloat16Storage", at::kBFloat16}, {"torch.LongStorage", at::kLong},     {"torch.IntStorage", at::kInt},
    {"torch.ShortStorage", at::kShort},       {"torch.CharStorage", at::kChar},     {"torch.ByteStorage", at::kByte},
    {"torch.BoolStorage", at::kBool},         {"torch.UntypedStorage", at::kByte},
};

const StorageType* storageType(const std::string& name) {
  for (const auto& s : kStorageTypes)
    if (name == s.name) return &s;
  return nullptr;
}

bool allowedGlobal(const std::string& name) {
  static const std::set<std::string> allowed = {
      "collections.OrderedDict",
      "torch._utils._rebuild_tensor_v2",
      "torch._utils._rebuild_parameter",
      "torch._utils._rebuild_parameter_with_state",
      "builtins.set",
      "builtins.frozenset",
      "_codecs.encode",  // how protocol 2 spells a bytes object
  };
  return allowed.count(name) > 0 || storageType(name) != nullptr;
}

// ---------------------------------------------------------------------------------------
// The unpickler.

class Unpickler {
 public:
  using PersistentLoad = std::function<Ref(const Ref& pid)>;

  Unpickler(std::string path, const std::string& data, PersistentLoad load)
      : path_(std::move(path)),
        begin_(reinterpret_cast<const unsigned char*>(data.data())),
        p_(begin_),
        end_(begin_ + data.size()),
        persistentLoad_(std::move(load)) {}

  // Breaks reference cycles (a list holding itself) and keeps destruction shallow.
  ~Unpickler() {
    for (auto& o : created_) {
      o->items.clear();
      o->dict.clear();
    }
  }

  Ref load() {
    while (true) {
      const size_t at = static_cast<size_t>(p_ - begin_);
      const unsigned char op = u8();
      switch (op) {
        case 0x80: {  // PROTO
          unsigned v = u8();
          if (v > 5) bad("unsupported pickle protocol " + std::to_string(v));
          break;
        }
        case 0x95:
          take(8);
          break;     // FRAME: framing is only a read-ahead hint
        case '.': {  // STOP
          if (stack_.empty()) bad("STOP with an empty stack");
          return stack_.back();
        }
        case '(':
          marks_.push_back(stack_.size());
          break;   // MARK
        case '0':  // POP
          if (!marks_.empty() && stack_.size() == marks_.back())
            popMark();
          else
            pop();
          break;
        case '1':
          popMark();
          break;  // POP_MARK
        case '2':
          push(top());
          break;  // DUP
        case 'N':
          push(make(Kind::None));
          break;
        case 0x88:
          push(makeBool(true));
          break;  // NEWTRUE
        case 0x89:
          push(makeBool(false));
          break;     // NEWFALSE
        case 'I': {  // INT (text)
          std::string l = line();
          if (l == "01")
            push(makeBool(true));
          else if (l == "00")
            push(makeBool(false));
          else
            push(parseIntText(l));
          break;
        }
        case 'L': {  // LONG (text)
          std::string l = line();
          if (!l.empty() && l.back() == 'L') l.pop_back();
          push(parseIntText(l));
          break;
        }
        case 'J': {  // BININT
          uint32_t v = static_cast<uint32_t>(le(4));
          push(makeInt(static_cast<int32_t>(v)));
          break;
        }
        case 'K':
          push(makeInt(u8()));
          break;  // BININT1
        case 'M':
          push(makeInt(le(2)));
          break;  // BININT2
        case 0x8a:
          push(longBytes(u8()));
          break;      // LONG1
        case 0x8b: {  // LONG4
          int32_t n = static_cast<int32_t>(static_cast<uint32_t>(le(4)));
          if (n < 0) bad("negative LONG4 length");
          push(longBytes(static_cast<uint64_t>(n)));
          break;
        }
        case 'F': {  // FLOAT (text)
          std::string l = line();
          auto o = make(Kind::Float);
          o->f = std::strtod(l.c_str(), nullptr);
          push(o);
          break;
        }
        case 'G': {  // BINFLOAT, big-endian
          const unsigned char* b = take(8);
          uint64_t bits = 0;
          for (int k = 0; k < 8; ++k) bits = (bits << 8) | b[k];
          auto o = make(Kind::Float);
          std::memcpy(&o->f, &bits, 8);
          push(o);
          break;
        }
        case 'T': {  // BINSTRING (Python 2 str)
          int32_t n = static_cast<int32_t>(static_cast<uint32_t>(le(4)));
          if (n < 0) bad("negative BINSTRING length");
          push(makeStr(Kind::Str, static_cast<uint64_t>(n)));
          break;
        }
        case 'U':
          push(makeStr(Kind::Str, u8()));
          break;  // SHORT_BINSTRING
        case 'X':
          push(makeStr(Kind::Str, le(4)));
          break;  // BINUNICODE
        case 0x8c:
          push(makeStr(Kind::Str, u8()));
          break;  // SHORT_BINUNICODE
        case 0x8d:
          push(makeStr(Kind::Str, le(8)));
          break;  // BINUNICODE8
        case 'B':
          push(makeStr(Kind::Bytes, le(4)));
          break;  // BINBYTES
        case 'C':
          push(makeStr(Kind::Bytes, u8()));
          break;    // SHORT_BINBYTES
        case 0x8e:  // BINBYTES8
        case 0x96:  // BYTEARRAY8
          push(makeStr(Kind::Bytes, le(8)));
          break;
        case ')':
          push(make(Kind::Tuple));
          break;     // EMPTY_TUPLE
        case 't': {  // TUPLE
          auto o = make(Kind::Tuple);
          o->items = popToMark();
          push(o);
          break;
        }
        case 0x85:    // TUPLE1
        case 0x86:    // TUPLE2
        case 0x87: {  // TUPLE3
          size_t n = op - 0x84;
          if (stack_.size() < n + (marks_.empty() ? 0 : marks_.back()))
            bad("stack underflow in TUPLE" + std::to_string(n));
          auto o = make(Kind::Tuple);
          o->items.assign(stack_.end() - static_cast<long>(n), stack_.end());
          stack_.resize(stack_.size() - n);
          push(o);
          break;
        }
        case ']':
          push(make(Kind::List));
          break;     // EMPTY_LIST
        case 'l': {  // LIST
          auto o = make(Kind::List);
          o->items = popToMark();
          push(o);
          break;
        }
        case 'a': {  // APPEND
          Ref v = pop();
          Ref l = top();
          expect(l, Kind::List, "APPEND");
          l->items.push_back(v);
          break;
        }
        case 'e':     // APPENDS
        case 0x90: {  // ADDITEMS (sets are kept as lists)
          std::vector<Ref> v = popToMark();
          Ref l = top();
          expect(l, Kind::List, op == 'e' ? "APPENDS" : "ADDITEMS");
          l->items.insert(l->items.end(), v.begin(), v.end());
          break;
        }
        case 0x8f:
          push(make(Kind::List));
          break;      // EMPTY_SET
        case 0x91: {  // FROZENSET
          auto o = make(Kind::List);
          o->items = popToMark();
          push(o);
          break;
        }
        case '}':
          push(make(Kind::Dict));
          break;     // EMPTY_DICT
        case 'd': {  // DICT
          std::vector<Ref> v = popToMark();
          if (v.size() % 2) bad("DICT with an odd number of items");
          auto o = make(Kind::Dict);
          for (size_t k = 0; k < v.size(); k += 2) setItem(o, v[k], v[k + 1]);
          push(o);
          break;
        }
        case 's': {  // SETITEM
          Ref v = pop();
          Ref k = pop();
          Ref d = top();
          expect(d, Kind::Dict, "SETITEM");
          setItem(d, k, v);
          break;
        }
        case 'u': {  // SETITEMS
          std::vector<Ref> v = popToMark();
          if (v.size() % 2) bad("SETITEMS with an odd number of items");
          Ref d = top();
          expect(d, Kind::Dict, "SETITEMS");
          for (size_t k = 0; k < v.size(); k += 2) setItem(d, v[k], v[k + 1]);
          break;
        }
        case 'p':
          memo_[parseIndex(line())] = top();
          break;  // PUT
        case 'q':
          memo_[u8()] = top();
          break;  // BINPUT
        case 'r':
          memo_[le(4)] = top();
          break;      // LONG_BINPUT
        case 0x94: {  // MEMOIZE
          uint64_t k = memo_.size();
          memo_[k] = top();
          break;
        }
        case 'g':
          push(get(parseIndex(line())));
          break;  // GET
        case 'h':
          push(get(u8()));
          break;  // BINGET
        case 'j':
          push(get(le(4)));
          break;     // LONG_BINGET
        case 'c': {  // GLOBAL
          std::string module = line();
          std::string name = line();
          push(global(module, name));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          Ref name = pop();
          Ref module = pop();
          if (module->kind != Kind::Str || name->kind != Kind::Str) bad("STACK_GLOBAL needs two strings");
          push(global(module->s, name->s));
          break;
        }
        case 'i': {  // INST: module and class as text, then instantiates
          std::string module = line();
          std::string name = line();
          global(module, name);  // refuses anything but the allowed globals
          bad("INST opcode (protocol 0 object creation) is not supported");
        }
        case 'o': {  // OBJ: instantiates the class object at the mark
          popToMark();
          bad("OBJ opcode (protocol 1 object creation) is not supported");
        }
        case 'R': {  // REDUCE
          Ref args = pop();
          Ref fn = pop();
          push(call(fn, args));
          break;
        }
        case 0x81: {  // NEWOBJ
          Ref args = pop();
          Ref cls = pop();
          push(newObj(cls, args));
          break;
        }
        case 0x92: {  // NEWOBJ_EX
          Ref kwargs = pop();
          Ref args = pop();
          Ref cls = pop();
          if (kwargs->kind != Kind::Dict || !kwargs->dict.empty()) bad("NEWOBJ_EX with keyword arguments");
          push(newObj(cls, args));
          break;
        }
        case 'b': {  // BUILD: sets attributes (an OrderedDict's _metadata); ignored
          pop();
          top();
          break;
        }
        case 'Q': {  // BINPERSID
          Ref pid = pop();
          push(persistentLoad_(pid));
          break;
        }
        case 'P':
          bad("text persistent ids (PERSID) are not used by torch.save");
        case 0x82:
        case 0x83:
        case 0x84:
          bad("pickle extension codes (EXT1/EXT2/EXT4) are not supported");
        case 0x97:
        case 0x98:
          bad("out-of-band pickle buffers are not supported");
        default: {
          char hex[8];
          std::snprintf(hex, sizeof hex, "0x%02x", op);
          bad(std::string("unsupported pickle opcode ") + hex + " at byte " + std::to_string(at) +
              " (not a weights file?)");
        }
      }
    }
  }

 private:
  [[noreturn]] void bad(const std::string& what) const { fail(path_, "malformed pickle (data.pkl): " + what); }

  [[noreturn]] void refuse(const std::string& name) const {
    // Tensors PyTorch itself writes but this reader does not take: say so, not "code".
    static const char* const kUnsupportedTensors[] = {"torch.ComplexFloatStorage",
                                                      "torch.ComplexDoubleStorage",
                                                      "torch.QInt8Storage",
                                                      "torch.QUInt8Storage",
                                                      "torch.QInt32Storage",
                                                      "torch._utils._rebuild_sparse_tensor",
                                                      "torch._utils._rebuild_sparse_csr",
                                                      "torch._utils._rebuild_qtensor",
                                                      "torch._utils._rebuild_wrapper_subclass",
                                                      "torch._utils._rebuild_meta_tensor_no_storage",
                                                      "torch._utils._rebuild_nested_tensor",
                                                      "torch.sparse_coo",
                                                      "torch.sparse_csr",
                                                      "torch.complex64",
                                                      "torch.complex128"};
    for (const char* t : kUnsupportedTensors)
      if (name == t)
        fail(path_, "holds a tensor of a kind that is not supported ('" + name +
                        "': complex, quantized, sparse or nested tensors); save dense real tensors");
    fail(path_, "refusing to unpickle global '" + name + "' (only weights are read; the file may contain code)");
  }

  const unsigned char* take(uint64_t n) {
    if (n > static_cast<uint64_t>(end_ - p_)) bad("unexpected end of data");
    const unsigned char* r = p_;
    p_ += n;
    return r;
  }
  unsigned u8() { return *take(1); }
  uint64_t le(int n) {
    const unsigned char* b = take(static_cast<uint64_t>(n));
    uint64_t v = 0;
    for (int k = n - 1; k >= 0; --k) v = (v << 8) | b[k];
    return v;
  }
  std::string line() {
    const unsigned char* nl = static_cast<const unsigned char*>(std::memchr(p_, '\n', static_cast<size_t>(end_ - p_)));
    if (!nl) bad("unterminated text line");
    std::string s(reinterpret_cast<const char*>(p_), static_cast<size_t>(nl - p_));
    p_ = nl + 1;
    if (!s.empty() && s.back() == '\r') s.pop_back();
    return s;
  }

  Ref make(Kind k) {
    auto o = std::make_shared<Obj>(k);
    if (k == Kind::Tuple || k == Kind::List || k == Kind::Dict) created_.push_back(o);
    return o;
  }
  Ref makeBool(bool b) {
    auto o = make(Kind::Bool);
    o->b = b;
    return o;
  }
  Ref makeInt(int64_t v) {
    auto o = make(Kind::Int);
    o->i = v;
    return o;
  }
  Ref makeStr(Kind k, uint64_t n) {
    const unsigned char* b = take(n);
    auto o = make(k);
    o->s.assign(reinterpret_cast<const char*>(b), static_cast<size_t>(n));
    return o;
  }
  Ref parseIntText(const std::string& l) {
    errno = 0;
    char* e = nullptr;
    long long v = std::strtoll(l.c_str(), &e, 10);
    if (e == l.c_str()) bad("bad integer '" + l + "'");
    if (errno == ERANGE) return make(Kind::BigInt);
    return makeInt(v);
  }
  // LONG1 / LONG4: little-endian two's complement.
  Ref longBytes(uint64_t n) {
    const unsigned char* b = take(n);
    if (n > 8) return make(Kind::BigInt);
    if (n == 0) return makeInt(0);
    uint64_t v = 0;
    for (int k = static_cast<int>(n) - 1; k >= 0; --k) v = (v << 8) | b[k];
    if (n < 8 && (b[n - 1] & 0x80)) v |= ~uint64_t(0) << (8 * n);  // sign-extend
    return makeInt(static_cast<int64_t>(v));
  }
  uint64_t parseIndex(const std::string& l) {
    char* e = nullptr;
    unsigned long long v = std::strtoull(l.c_str(), &e, 10);
    if (e == l.c_str()) bad("bad memo index '" + l + "'");
    return v;
  }

  void push(Ref o) { stack_.push_back(std::move(o)); }
  Ref pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) bad("stack underflow");
    Ref o = std::move(stack_.back());
    stack_.pop_back();
    return o;
  }
  const Ref& top() const {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) bad("stack underflow");
    return stack_.back();
  }
  void popMark() {
    if (marks_.empty()) bad("no MARK on the stack");
    stack_.resize(marks_.back());
    marks_.pop_back();
  }
  std::vector<Ref> popToMark() {
    if (marks_.empty()) bad("no MARK on the stack");
    size_t m = marks_.back();
    marks_.pop_back();
    std::vector<Ref> v(stack_.begin() + static_cast<long>(m), stack_.end());
    stack_.resize(m);
    return v;
  }
  Ref get(uint64_t k) const {
    auto it = memo_.find(k);
    if (it == memo_.end()) bad("memo key " + std::to_string(k) + " was never stored");
    return it->second;
  }
  void expect(const Ref& o, Kind k, const char* op) const {
    if (o->kind != k) bad(std::string(op) + " on a " + kindName(o->kind) + ", expected a " + kindName(k));
  }

  static bool sameKey(const Obj& a, const Obj& b) {
    if (&a == &b) return true;
    if (a.kind != b.kind) return false;
    switch (a.kind) {
      case Kind::Str:
      case Kind::Bytes:
        return a.s == b.s;
      case Kind::Int:
        return a.i == b.i;
      case Kind::Bool:
        return a.b == b.b;
      case Kind::None:
        return true;
      case Kind::Float:
        return a.f == b.f;
      default:
        return false;
    }
  }
  static void setItem(const Ref& d, const Ref& k, const Ref& v) {
    for (auto& kv : d->dict)
      if (sameKey(*kv.first, *k)) {
        kv.second = v;  // Python keeps the first position of a replaced key
        return;
      }
    d->dict.emplace_back(k, v);
  }

  Ref global(std::string module, const std::string& name) {
    if (module == "__builtin__") module = "builtins";  // protocol 2 writes Python 2 names
    const std::string full = module + "." + name;
    if (!allowedGlobal(full)) refuse(full);
    auto o = make(Kind::Global);
    o->s = full;
    return o;
  }

  const std::vector<Ref>& tupleArgs(const Ref& args, const std::string& fn) const {
    if (args->kind != Kind::Tuple) bad("arguments of " + fn + " are not a tuple");
    return args->items;
  }

  Ref call(const Ref& fn, const Ref& args) {
    if (fn->kind != Kind::Global) bad(std::string("REDUCE on a ") + kindName(fn->kind));
    const std::string& name = fn->s;
    const auto& a = tupleArgs(args, name);
    if (name == "collections.OrderedDict" || name == "builtins.set" || name == "builtins.frozenset") {
      const bool isDict = name == "collections.OrderedDict";
      auto o = make(isDict ? Kind::Dict : Kind::List);
      if (a.size() > 1) bad(name + " with " + std::to_string(a.size()) + " arguments");
      if (a.size() == 1) {
        const Ref& src = a[0];
        if (isDict && src->kind == Kind::Dict) {
          for (const auto& kv : src->dict) setItem(o, kv.first, kv.second);
        } else if (src->kind == Kind::List || src->kind == Kind::Tuple) {
          for (const auto& it : src->items) {
            if (!isDict) {
              o->items.push_back(it);
              continue;
            }
            if ((it->kind != Kind::Tuple && it->kind != Kind::List) || it->items.size() != 2)
              bad("OrderedDict items must be pairs");
            setItem(o, it->items[0], it->items[1]);
          }
        } else {
          bad(name + " of a " + kindName(src->kind));
        }
      }
      return o;
    }
    if (name == "torch._utils._rebuild_tensor_v2") return rebuildTensor(a);
    if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") {
      if (a.empty() || a[0]->kind != Kind::Tensor) bad(name + " without a tensor");
      return a[0];
    }
    if (name == "_codecs.encode") {
      if (a.size() != 2 || a[0]->kind != Kind::Str || a[1]->kind != Kind::Str) bad("_codecs.encode arguments");
      if (a[1]->s != "latin1" && a[1]->s != "latin-1") bad("_codecs.encode with encoding '" + a[1]->s + "'");
      auto o = make(Kind::Bytes);
      o->s = latin1(a[0]->s);
      return o;
    }
    bad("'" + name + "' cannot be called");
  }

  Ref newObj(const Ref& cls, const Ref& args) {
    if (cls->kind != Kind::Global) bad(std::string("NEWOBJ on a ") + kindName(cls->kind));
    if (cls->s == "collections.OrderedDict") return make(Kind::Dict);
    if (cls->s == "builtins.set" || cls->s == "builtins.frozenset") return make(Kind::List);
    bad("'" + cls->s + "' cannot be instantiated");
  }

  // UTF-8 text to the bytes of its code points (all < 256 for latin-1 encoded bytes).
  std::string latin1(const std::string& u) const {
    std::string out;
    for (size_t k = 0; k < u.size();) {
      unsigned char c = static_cast<unsigned char>(u[k]);
      if (c < 0x80) {
        out.push_back(static_cast<char>(c));
        ++k;
      } else if ((c & 0xe0) == 0xc0 && k + 1 < u.size()) {
        unsigned cp = ((c & 0x1fu) << 6) | (static_cast<unsigned char>(u[k + 1]) & 0x3fu);
        if (cp > 0xff) bad("_codecs.encode: character outside latin-1");
        out.push_back(static_cast<char>(cp));
        k += 2;
      } else {
        bad("_codecs.encode: character outside latin-1");
      }
    }
    return out;
  }

  // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks
  //                    [, metadata]): a strided view of the storage, materialized.
  Ref rebuildTensor(const std::vector<Ref>& a) {
    if (a.size() < 4) bad("_rebuild_tensor_v2 with " + std::to_string(a.size()) + " arguments");
    const Ref& st = a[0];
    if (st->kind != Kind::Storage) bad("_rebuild_tensor_v2 without a storage");
    if (a[1]->kind != Kind::Int) bad("_rebuild_tensor_v2: storage offset is not an int");
    auto dims = [&](const Ref& o, const char* what) {
      if (o->kind != Kind::Tuple && o->kind != Kind::List)
        bad(std::string("_rebuild_tensor_v2: ") + what + " is not a tuple");
      std::vector<int64_t> v;
      for (const auto& d : o->items) {
        if (d->kind != Kind::Int || d->i < 0) bad(std::string("_rebuild_tensor_v2: bad ") + what);
        v.push_back(d->i);
      }
      return v;
    };
    const int64_t offset = a[1]->i;
    const std::vector<int64_t> size = dims(a[2], "size");
    const std::vector<int64_t> stride = dims(a[3], "stride");
    if (offset < 0) bad("_rebuild_tensor_v2: negative storage offset");
    if (size.size() != stride.size()) bad("_rebuild_tensor_v2: size and stride differ in length");
    const at::Tensor& flat = st->tensor;
    const int64_t storageNumel = flat.numel();
    auto o = make(Kind::Tensor);
    int64_t numel = 1, last = offset;
    for (size_t k = 0; k < size.size(); ++k) {
      if (__builtin_mul_overflow(numel, size[k], &numel)) bad("_rebuild_tensor_v2: size too large");
    }
    if (numel == 0) {
      o->tensor = at::empty(size, flat.options());
      return o;
    }
    for (size_t k = 0; k < size.size(); ++k) {
      int64_t span;
      if (__builtin_mul_overflow(size[k] - 1, stride[k], &span) || __builtin_add_overflow(last, span, &last))
        bad("_rebuild_tensor_v2: view too large");
    }
    if (last >= storageNumel)
      fail(path_, "tensor view (offset " + std::to_string(offset) + ", size " + c10::str(at::IntArrayRef(size)) +
                      ", stride " + c10::str(at::IntArrayRef(stride)) + ") reaches element " + std::to_string(last) +
                      " of storage '" + st->s + "' which holds " + std::to_string(storageNumel));
    // Contiguous over the whole storage: hand the storage itself out once, no copy.
    bool contiguous = true;
    int64_t expect = 1;
    for (size_t k = size.size(); k-- > 0;) {
      if (size[k] != 1 && stride[k] != expect) contiguous = false;
      expect *= size[k];
    }
    if (contiguous && offset == 0 && numel == storageNumel && !st->handedOut) {
      st->handedOut = true;
      o->tensor = flat.view(size);
    } else {
      o->tensor = flat.as_strided(size, stride, offset).clone(at::MemoryFormat::Contiguous);
    }
    return o;
  }

  std::string path_;
  const unsigned char* begin_;
  const unsigned char* p_;
  const unsigned char* end_;
  PersistentLoad persistentLoad_;
  std::vector<Ref> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Ref> memo_;
  std::vector<Ref> created_;
};

// ---------------------------------------------------------------------------------------
// The zip archive.

class ZipArchive {
 public:
  explicit ZipArchive(const std::string& path) : path_(path) {
    // Opened without blocking and checked as a regular file first (ess/input_file.h); libzip
    // then owns the descriptor.
    InputFile file(path, "PyTorch checkpoint file");
    fileSize_ = file.size();
    int err = 0;
    const int fd = file.release();
    z_ = zip_fdopen(fd, ZIP_RDONLY, &err);
    if (!z_) {
      ::close(fd);
      zip_error_t ze;
      zip_error_init_with_code(&ze, err);
      std::string msg = zip_error_strerror(&ze);
      zip_error_fini(&ze);
      fail(path, "cannot open as a zip archive: " + msg);
    }
  }
  ~ZipArchive() {
    if (z_) zip_discard(z_);
  }
  ZipArchive(const ZipArchive&) = delete;
  ZipArchive& operator=(const ZipArchive&) = delete;

  std::vector<std::string> names() const {
    std::vector<std::string> v;
    zip_int64_t n = zip_get_num_entries(z_, 0);
    for (zip_int64_t k = 0; k < n; ++k) {
      const char* s = zip_get_name(z_, static_cast<zip_uint64_t>(k), 0);
      v.push_back(s ? s : "");
    }
    return v;
  }

  // Index of the entry, or -1.
  zip_int64_t find(const std::string& name) const { return zip_name_locate(z_, name.c_str(), 0); }

  uint64_t size(zip_int64_t index, const std::string& name) const {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z_, static_cast<zip_uint64_t>(index), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
      fail(path_, "cannot read archive entry '" + name + "': " + zip_strerror(z_));
    // Checked before anything is allocated: an entry cannot hold more than the file, except
    // compressed (torch.save stores entries uncompressed; deflate expands at most ~1032x).
    const bool stored = (st.valid & ZIP_STAT_COMP_METHOD) && st.comp_method == ZIP_CM_STORE;
    const uint64_t limit = stored ? fileSize_ : std::min<uint64_t>(fileSize_, uint64_t(1) << 52) * 1032;
    if (st.size > limit)
      fail(path_, "archive entry '" + name + "' claims " + std::to_string(st.size) + " bytes in a file of " +
                      std::to_string(fileSize_) + " bytes (the archive is damaged)");
    return st.size;
  }

  // Reads `n` bytes from the start of the entry into `dst`.
  void read(zip_int64_t index, const std::string& name, void* dst, uint64_t n) const {
    zip_file_t* f = zip_fopen_index(z_, static_cast<zip_uint64_t>(index), 0);
    if (!f) fail(path_, "cannot open archive entry '" + name + "': " + zip_strerror(z_));
    auto* p = static_cast<char*>(dst);
    while (n > 0) {
      zip_int64_t got = zip_fread(f, p, n);
      if (got <= 0) {
        std::string msg = got < 0 ? zip_file_strerror(f) : "unexpected end of entry";
        zip_fclose(f);
        fail(path_, "cannot read archive entry '" + name + "': " + msg);
      }
      p += got;
      n -= static_cast<uint64_t>(got);
    }
    zip_fclose(f);
  }

  std::string readAll(zip_int64_t index, const std::string& name) const {
    uint64_t n = size(index, name);
    std::string s(static_cast<size_t>(n), '\0');
    read(index, name, s.data(), n);
    return s;
  }

 private:
  std::string path_;
  uint64_t fileSize_ = 0;
  zip_t* z_ = nullptr;
};

void byteswap(at::Tensor& t) {
  const size_t w = static_cast<size_t>(t.element_size());
  if (w <= 1) return;
  auto* p = static_cast<unsigned char*>(t.data_ptr());
  for (int64_t k = 0; k < t.numel(); ++k, p += w) std::reverse(p, p + w);
}

std::string keyName(const Obj& k) {
  switch (k.kind) {
    case Kind::Str:
    case Kind::Bytes:
      return k.s;
    case Kind::Int:
      return std::to_string(k.i);
    case Kind::Bool:
      return k.b ? "True" : "False";
    case Kind::None:
      return "None";
    case Kind::Float:
      return c10::str(k.f);
    default:
      return std::string("<") + kindName(k.kind) + ">";
  }
}

void flatten(const std::string& path, const Ref& o, const std::string& prefix, NamedTensors& out,
             std::set<std::string>& names, std::set<const Obj*>& active) {
  auto child = [&](const std::string& key) { return prefix.empty() ? key : prefix + "/" + key; };
  switch (o->kind) {
    case Kind::Tensor: {
      std::string name = prefix.empty() ? "tensor" : prefix;
      if (!names.insert(name).second) fail(path, "two tensors map to the name '" + name + "'");
      out.add(name, o->tensor);
      return;
    }
    case Kind::Dict:
    case Kind::List:
    case Kind::Tuple: {
      if (active.count(o.get())) return;  // a container holding itself
      if (active.size() >= 1000) fail(path, "containers nested more than 1000 levels deep");
      active.insert(o.get());
      if (o->kind == Kind::Dict) {
        for (const auto& [k, v] : o->dict) flatten(path, v, child(keyName(*k)), out, names, active);
      } else {
        for (size_t k = 0; k < o->items.size(); ++k)
          flatten(path, o->items[k], child(std::to_string(k)), out, names, active);
      }
      active.erase(o.get());
      return;
    }
    default:
      return;  // numbers, strings, None: read, not listed
  }
}

// First bytes of a file, for format detection.
std::string head(const std::string& path, size_t n) {
  const InputFile f(path, "PyTorch checkpoint file");
  std::string s(static_cast<size_t>(std::min<uint64_t>(n, f.size())), '\0');
  f.readAt(s.data(), s.size(), 0, "the first bytes");
  return s;
}

NamedTensors readZipCheckpoint(const std::string& path) {
  const std::string magic = head(path, 4);
  if (magic.empty()) fail(path, "file is empty (not a PyTorch checkpoint)");
  if (magic.size() < 4 || magic.compare(0, 2, "PK") != 0) {
    if (static_cast<unsigned char>(magic[0]) == 0x80)
      fail(path,
           "legacy (pre-1.6) PyTorch format is not supported; re-save it with torch.save(obj, path) "
           "from PyTorch >= 1.6 (the zip format)");
    fail(path, "not a PyTorch checkpoint (torch.save since PyTorch 1.6 writes a zip archive)");
  }

  ZipArchive zip(path);
  const std::vector<std::string> names = zip.names();
  std::string pkl;
  for (const auto& n : names) {
    if (n == "data.pkl" || (n.size() > 9 && n.compare(n.size() - 9, 9, "/data.pkl") == 0)) {
      if (pkl.empty() || std::count(n.begin(), n.end(), '/') < std::count(pkl.begin(), pkl.end(), '/')) pkl = n;
    }
  }
  if (pkl.empty()) fail(path, "zip archive without data.pkl (not a torch.save checkpoint)");
  const std::string prefix = pkl.substr(0, pkl.size() - 8);
  for (const auto& n : names)
    if (n.compare(0, prefix.size() + 5, prefix + "code/") == 0)
      fail(path,
           "TorchScript archives (torch.jit.save) are not supported; save the weights with "
           "torch.save(model.state_dict(), path)");

  bool bigEndian = false;
  zip_int64_t bo = zip.find(prefix + "byteorder");
  if (bo >= 0) {
    std::string order = zip.readAll(bo, prefix + "byteorder");
    while (!order.empty() && std::isspace(static_cast<unsigned char>(order.back()))) order.pop_back();
    if (order == "big")
      bigEndian = true;
    else if (order != "little")
      fail(path, "unknown byte order '" + order + "' in " + prefix + "byteorder");
  }

  const zip_int64_t pklIndex = zip.find(pkl);
  if (zip.size(pklIndex, pkl) > (1ull << 32)) fail(path, "'" + pkl + "' is implausibly large for a weights file");
  const std::string pickle = zip.readAll(pklIndex, pkl);
  std::map<std::string, Ref> storages;
  auto persistentLoad = [&](const Ref& pid) -> Ref {
    auto badPid = [&](const std::string& what) -> Ref {
      fail(path, "malformed pickle (data.pkl): persistent id " + what);
    };
    if (pid->kind != Kind::Tuple || pid->items.size() < 5) return badPid("is not a 5-tuple");
    const auto& it = pid->items;
    if (it[0]->kind != Kind::Str || it[0]->s != "storage") return badPid("is not ('storage', ...)");
    if (it[1]->kind != Kind::Global) return badPid("has no storage type");
    const StorageType* stype = storageType(it[1]->s);
    if (!stype) fail(path, "unsupported storage type '" + it[1]->s + "'");
    if (it[2]->kind != Kind::Str) return badPid("has no storage key");
    if (it[4]->kind != Kind::Int || it[4]->i < 0) return badPid("has no element count");
    const std::string& key = it[2]->s;
    auto found = storages.find(key);
    if (found != storages.end()) {
      if (found->second->tensor.scalar_type() != stype->dtype)
        fail(path, "storage '" + key + "' is used with two different dtypes");
      return found->second;
    }
    const std::string entry = prefix + "data/" + key;
    zip_int64_t idx = zip.find(entry);
    if (idx < 0) fail(path, "archive entry '" + entry + "' is missing");
    const int64_t numel = it[4]->i;
    const bool isBool = stype->dtype == at::kBool;
    const uint64_t itemsize = c10::elementSize(stype->dtype);
    uint64_t nbytes = 0;
    const uint64_t have = zip.size(idx, entry);
    if (__builtin_mul_overflow(static_cast<uint64_t>(numel), itemsize, &nbytes) || have < nbytes)
      fail(path, "archive entry '" + entry + "' has " + std::to_string(have) + " bytes, too few for " +
                     std::to_string(numel) + " elements of " + c10::toString(stype->dtype));
    checkCancelled("tensor read");  // a cancelled open reads no further storage
    at::Tensor flat = at::empty({numel}, at::TensorOptions().dtype(isBool ? at::kByte : stype->dtype));
    if (nbytes > 0) zip.read(idx, entry, flat.data_ptr(), nbytes);
    if (bigEndian) byteswap(flat);
    if (isBool) flat = flat.ne(0);
    auto o = std::make_shared<Obj>(Kind::Storage);
    o->s = key;
    o->tensor = flat;
    storages[key] = o;
    return o;
  };

  NamedTensors out;
  {
    Unpickler u(path, pickle, persistentLoad);
    Ref root = u.load();
    std::set<std::string> seen;
    std::set<const Obj*> active;
    flatten(path, root, "", out, seen, active);
  }
  return out;
}

}  // namespace

NamedTensors readTorchCheckpoint(const std::string& path) {
  try {
    return readZipCheckpoint(path);
  } catch (const InputError&) {
    throw;
  } catch (const std::bad_alloc&) {
    fail(path, "out of memory while reading the checkpoint");
  } catch (const c10::Error& e) {
    fail(path, std::string("cannot read the checkpoint: ") + e.what_without_backtrace());
  }
}

}  // namespace ess
