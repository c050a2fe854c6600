//===- Json.h - a minimal JSON reader for launch descriptors ---*- C++ -*-===//
//
// The runtime is built where LLVM is not (the GPU machine), so it cannot use
// llvm::json. This reader covers RFC 8259 (objects, arrays, strings with
// escapes, numbers, true/false/null) with limits that turn every malformed
// or hostile input into one error carrying its byte offset: nesting depth
// (kMaxDepth), input size (kMaxBytes), duplicate keys and trailing bytes are
// errors; it never recurses unboundedly and never reads out of bounds.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_RT_JSON_H
#define LPATTN_RT_JSON_H

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lpattn::rt::json {

/// One JSON value. Objects keep their keys sorted (std::map); duplicate keys
/// are rejected by the parser.
struct Value {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Value> array;
  std::map<std::string, Value> object;
  /// Byte offset of the value's first character in the input (for messages).
  size_t offset = 0;

  /// Member `key` of an object, or null when absent or not an object.
  const Value *get(std::string_view key) const;
};

/// The kind's name with its article, for messages ("an object", "null").
const char *kindName(Value::Kind kind);

constexpr size_t kMaxDepth = 64;
constexpr size_t kMaxBytes = 1 << 20;

/// Parses `text`; on failure returns false and sets `error` to
/// "byte N: what was expected".
bool parse(std::string_view text, Value &result, std::string &error);

} // namespace lpattn::rt::json

#endif // LPATTN_RT_JSON_H
