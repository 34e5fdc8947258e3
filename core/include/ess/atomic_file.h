// Writing files so that nothing half-written is ever left (docs/definitions.md section 6): data goes to
// a temporary file in the target's folder, is flushed to disk and renamed into place.
// Symbolic links are followed (their target is replaced, the link stays); special files
// (character devices such as /dev/null, pipes) are written directly, since they cannot be
// replaced; a directory is refused.
#pragma once
#include <cstddef>
#include <functional>
#include <string>

namespace ess {

/// Appends bytes to the file being written; throws InputError on a write failure.
using ByteSink = std::function<void(const void* data, size_t size)>;

/// Writes the bytes that `produce` hands to its sink. Throws InputError `<path>: <what>` when the
/// folder is missing or not writable, the disk is full or `path` is a directory; the previous
/// file at `path`, if any, is then left as it was. Exceptions from `produce` propagate after
/// the temporary file is removed.
void writeFileAtomically(const std::string& path, const std::function<void(const ByteSink&)>& produce);

/// Writes `data` to `path` as above.
void writeFileAtomically(const std::string& path, const std::string& data);

}  // namespace ess
