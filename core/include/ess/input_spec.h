// Input token sequences from the `--input` specs of docs/definitions.md section 4:
//   mqar:seed=S,len=L,pairs=P,vocab=V   a multi-query associative recall sample (Zoology-style)
//   tokens:1,2,3                        explicit token ids
//   random:seed=S,len=L                 uniform random tokens
//   text:...  / textfile:PATH           bytes as tokens (needs a vocabulary of at least 256)
//                                       (Hugging Face sessions tokenize text with the checkpoint's
//                                       own tokenizer instead: ess/tokenizer.h)
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace ess {

/// Tokens of `spec` for a model with `vocabSize` tokens that accepts at most `maxLength`
/// (0 = no limit). Missing mqar fields default to seed=0, len=64, pairs=8, vocab=vocabSize.
/// Throws UsageError on a malformed spec, InputError when a token id is outside the vocabulary,
/// the sequence is longer than `maxLength` (the message gives the limit) or a file is unreadable.
std::vector<long> tokensFromSpec(const std::string& spec, int vocabSize, int maxLength);

/// Largest text file a `textfile:` input reads, in bytes (16 MiB: millions of tokens, more
/// than any forward pass here fits in memory).
inline constexpr size_t kMaxTextFileBytes = size_t(16) << 20;

/// The text of a `text:TEXT` spec (TEXT itself) or a `textfile:PATH` spec (the file's bytes).
/// `requireUtf8`: refuse text that is not valid UTF-8 (tokenizers read characters). Throws
/// InputError naming the file: absent or unreadable, not a regular file (a directory, a
/// device), larger than kMaxTextFileBytes, or (requireUtf8, also for text:) not UTF-8 (the
/// byte offset of the first invalid byte is given). UsageError for other spec kinds. A UTF-8
/// byte-order mark (EF BB BF) at the start of a textfile: is dropped.
std::string textOfSpec(const std::string& spec, bool requireUtf8);

/// The input a model opens with: an MQAR sample that fits the model
/// (`mqar:seed=0,len=min(64,maxLength),pairs=...,vocab=vocabSize`).
std::string defaultInputSpec(int vocabSize, int maxLength);

}  // namespace ess
