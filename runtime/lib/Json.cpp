//===- Json.cpp - a minimal JSON reader for launch descriptors -------------===//
//
// A recursive-descent reader whose recursion is bounded by kMaxDepth, so a
// deeply nested input gives an error instead of a stack overflow.
//
//===----------------------------------------------------------------------===//

#include "Json.h"

#include <cmath>
#include <locale>
#include <sstream>

using namespace lpattn::rt;
using namespace lpattn::rt::json;

const Value *Value::get(std::string_view key) const {
  if (kind != Kind::Object)
    return nullptr;
  auto it = object.find(std::string(key));
  return it == object.end() ? nullptr : &it->second;
}

const char *json::kindName(Value::Kind kind) {
  switch (kind) {
  case Value::Kind::Null:
    return "null";
  case Value::Kind::Bool:
    return "a boolean";
  case Value::Kind::Number:
    return "a number";
  case Value::Kind::String:
    return "a string";
  case Value::Kind::Array:
    return "an array";
  case Value::Kind::Object:
    return "an object";
  }
  return "<invalid>";
}

namespace {
class Parser {
public:
  explicit Parser(std::string_view text) : text(text) {}

  bool parseDocument(Value &result, std::string &error) {
    if (text.size() > kMaxBytes)
      return fail(0, "input is " + std::to_string(text.size()) +
                         " bytes, more than the limit of " +
                         std::to_string(kMaxBytes),
                  error);
    skipSpace();
    if (!parseValue(result, 0, error))
      return false;
    skipSpace();
    if (pos != text.size())
      return fail(pos, "unexpected trailing characters after the value",
                  error);
    return true;
  }

private:
  std::string_view text;
  size_t pos = 0;

  static bool fail(size_t at, const std::string &what, std::string &error) {
    error = "byte " + std::to_string(at) + ": " + what;
    return false;
  }

  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' ||
                                 text[pos] == '\n' || text[pos] == '\r'))
      ++pos;
  }

  bool parseValue(Value &v, size_t depth, std::string &error) {
    if (pos >= text.size())
      return fail(pos, "unexpected end of input, expected a value", error);
    v.offset = pos;
    char c = text[pos];
    if (c == '{' || c == '[') {
      // Containers are where the recursion happens: bound it here.
      if (depth >= kMaxDepth)
        return fail(pos,
                    "nesting deeper than " + std::to_string(kMaxDepth) +
                        " levels",
                    error);
      return c == '{' ? parseObject(v, depth + 1, error)
                      : parseArray(v, depth + 1, error);
    }
    if (c == '"') {
      v.kind = Value::Kind::String;
      return parseString(v.string, error);
    }
    if (c == '-' || (c >= '0' && c <= '9'))
      return parseNumber(v, error);
    if (text.compare(pos, 4, "true") == 0) {
      v.kind = Value::Kind::Bool;
      v.boolean = true;
      pos += 4;
      return true;
    }
    if (text.compare(pos, 5, "false") == 0) {
      v.kind = Value::Kind::Bool;
      pos += 5;
      return true;
    }
    if (text.compare(pos, 4, "null") == 0) {
      v.kind = Value::Kind::Null;
      pos += 4;
      return true;
    }
    return fail(pos, std::string("unexpected character '") + printable(c) +
                         "', expected a value",
                error);
  }

  static std::string printable(char c) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f)
      return std::string(1, c);
    static const char *digits = "0123456789abcdef";
    return std::string("\\x") + digits[u >> 4] + digits[u & 15];
  }

  bool parseObject(Value &v, size_t depth, std::string &error) {
    v.kind = Value::Kind::Object;
    ++pos; // '{'
    skipSpace();
    if (pos < text.size() && text[pos] == '}') {
      ++pos;
      return true;
    }
    while (true) {
      skipSpace();
      if (pos >= text.size() || text[pos] != '"')
        return fail(pos, "expected a string key in the object", error);
      size_t keyAt = pos;
      std::string key;
      if (!parseString(key, error))
        return false;
      skipSpace();
      if (pos >= text.size() || text[pos] != ':')
        return fail(pos, "expected ':' after the key \"" + key + "\"", error);
      ++pos;
      skipSpace();
      Value member;
      if (!parseValue(member, depth, error))
        return false;
      if (!v.object.emplace(key, std::move(member)).second)
        return fail(keyAt, "duplicate key \"" + key + "\"", error);
      skipSpace();
      if (pos < text.size() && text[pos] == ',') {
        ++pos;
        continue;
      }
      if (pos < text.size() && text[pos] == '}') {
        ++pos;
        return true;
      }
      return fail(pos, "expected ',' or '}' in the object", error);
    }
  }

  bool parseArray(Value &v, size_t depth, std::string &error) {
    v.kind = Value::Kind::Array;
    ++pos; // '['
    skipSpace();
    if (pos < text.size() && text[pos] == ']') {
      ++pos;
      return true;
    }
    while (true) {
      skipSpace();
      Value element;
      if (!parseValue(element, depth, error))
        return false;
      v.array.push_back(std::move(element));
      skipSpace();
      if (pos < text.size() && text[pos] == ',') {
        ++pos;
        continue;
      }
      if (pos < text.size() && text[pos] == ']') {
        ++pos;
        return true;
      }
      return fail(pos, "expected ',' or ']' in the array", error);
    }
  }

  static int hexDigit(char c) {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  }

  bool parseHex4(unsigned &code, std::string &error) {
    if (pos + 4 > text.size())
      return fail(pos, "unexpected end of input in a \\u escape", error);
    code = 0;
    for (int i = 0; i < 4; ++i) {
      int d = hexDigit(text[pos + i]);
      if (d < 0)
        return fail(pos + i, "expected a hex digit in a \\u escape", error);
      code = code * 16 + static_cast<unsigned>(d);
    }
    pos += 4;
    return true;
  }

  static void appendUtf8(std::string &out, unsigned code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xc0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3f));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xe0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (code & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (code & 0x3f));
    }
  }

  bool parseString(std::string &out, std::string &error) {
    size_t start = pos;
    ++pos; // '"'
    while (true) {
      if (pos >= text.size())
        return fail(start, "unterminated string", error);
      char c = text[pos];
      if (c == '"') {
        ++pos;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20)
        return fail(pos, "control character in a string (escape it)", error);
      if (c != '\\') {
        out += c;
        ++pos;
        continue;
      }
      ++pos;
      if (pos >= text.size())
        return fail(start, "unterminated string", error);
      char e = text[pos++];
      switch (e) {
      case '"':
      case '\\':
      case '/':
        out += e;
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        unsigned code = 0;
        if (!parseHex4(code, error))
          return false;
        // A high surrogate must pair with a low one; lone surrogates are
        // not characters.
        if (code >= 0xd800 && code < 0xdc00) {
          if (text.compare(pos, 2, "\\u") != 0)
            return fail(pos, "unpaired UTF-16 surrogate in a \\u escape",
                        error);
          pos += 2;
          unsigned low = 0;
          if (!parseHex4(low, error))
            return false;
          if (low < 0xdc00 || low >= 0xe000)
            return fail(pos - 6, "unpaired UTF-16 surrogate in a \\u escape",
                        error);
          code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        } else if (code >= 0xdc00 && code < 0xe000) {
          return fail(pos - 6, "unpaired UTF-16 surrogate in a \\u escape",
                      error);
        }
        appendUtf8(out, code);
        break;
      }
      default:
        return fail(pos - 2, "invalid escape '\\" + printable(e) + "'",
                    error);
      }
    }
  }

  bool parseNumber(Value &v, std::string &error) {
    size_t start = pos;
    auto digits = [&]() {
      size_t from = pos;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
        ++pos;
      return pos - from;
    };
    if (text[pos] == '-')
      ++pos;
    if (pos < text.size() && text[pos] == '0') {
      ++pos;
    } else if (digits() == 0) {
      return fail(start, "malformed number", error);
    }
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      if (digits() == 0)
        return fail(start, "malformed number: no digit after '.'", error);
    }
    if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
      ++pos;
      if (pos < text.size() && (text[pos] == '+' || text[pos] == '-'))
        ++pos;
      if (digits() == 0)
        return fail(start, "malformed number: no digit in the exponent",
                    error);
    }
    // The grammar above has checked every character; the stream only
    // converts, in the classic locale (strtod would follow the host
    // program's locale and could read "0.5" as 0 under a decimal comma).
    std::string literal(text.substr(start, pos - start));
    std::istringstream in(literal);
    in.imbue(std::locale::classic());
    double value = 0;
    in >> value;
    if (in.fail() || !std::isfinite(value))
      return fail(start, "number " + literal + " is out of range", error);
    v.kind = Value::Kind::Number;
    v.number = value;
    return true;
  }
};
} // namespace

bool json::parse(std::string_view text, Value &result, std::string &error) {
  result = Value();
  return Parser(text).parseDocument(result, error);
}
