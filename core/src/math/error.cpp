#include "ess/error.h"

namespace ess {

namespace {

std::string render(const std::string& field, const std::vector<MessagePart>& body, const NameStyle& name) {
  std::string s = field.empty() ? std::string() : name(field, true);
  for (const MessagePart& p : body) s += p.isName ? name(p.text, s.empty()) : p.text;
  return s;
}

std::string asKey(const std::string& key, bool) { return key; }

}  // namespace

Error::Error(const std::string& message) : std::runtime_error(message), body_{MessagePart(message)} {}

Error::Error(std::string field, std::vector<MessagePart> body)
    : std::runtime_error(render(field, body, asKey)), field_(std::move(field)), body_(std::move(body)) {}

std::string Error::text(const NameStyle& name) const { return render(field_, body_, name); }

}  // namespace ess
