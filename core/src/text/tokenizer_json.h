// The tokenizer.json reader (the Hugging Face `tokenizers` format; internal to the core): picks
// the tokenizer model from the file's model.type and pre-tokenizer family (the table in
// tokenizer_json.cpp), then reads the added tokens and the post-processor.
#pragma once
#include <string>

#include "text/tokenizer_model.h"

namespace ess::text {

/// Parses tokenizer.json text; `what` names it in errors. Throws InputError naming `what`, the
/// field and the type for anything not supported (the message of Tokenizer::fromJsonText).
TokenizerParts readTokenizerJson(const std::string& json, const std::string& what);

}  // namespace ess::text
