//===- NpyFile.cpp - NumPy .npy files without LLVM ------------------------===//
//
// The format (numpy/lib/format.py): "\x93NUMPY", a major and a minor version
// byte, the header length (uint16 LE in 1.0, uint32 LE in 2.0), the header (a
// Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2,
// 3), } padded with spaces and '\n'), then the data. Every length read from
// the file is checked against the bytes that are there before it is used.
//
//===----------------------------------------------------------------------===//

#include "NpyFile.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>

using namespace lpattn::rt;

namespace {

constexpr std::string_view kMagic("\x93NUMPY", 6);

struct Header {
  std::string descr;
  bool fortranOrder = false;
  std::vector<int64_t> shape;
};

/// The subset of Python literal syntax numpy writes in headers.
class HeaderParser {
public:
  explicit HeaderParser(std::string_view text) : rest(text) {}

  bool parse(Header &h, std::string &error) {
    bool seenDescr = false, seenFortran = false, seenShape = false;
    skipSpace();
    if (!consume("{"))
      return fail(error, "the header is not a Python dict literal");
    while (true) {
      skipSpace();
      if (consume("}"))
        break;
      std::string key;
      if (!parseString(key))
        return fail(error, "expected a quoted key in the header dict");
      skipSpace();
      if (!consume(":"))
        return fail(error, "expected ':' after key '" + key + "'");
      skipSpace();
      bool *seen = nullptr;
      if (key == "descr") {
        seen = &seenDescr;
        if (!parseString(h.descr))
          return fail(error, "'descr' must be a quoted string");
      } else if (key == "fortran_order") {
        seen = &seenFortran;
        if (consume("True"))
          h.fortranOrder = true;
        else if (consume("False"))
          h.fortranOrder = false;
        else
          return fail(error, "'fortran_order' must be True or False");
      } else if (key == "shape") {
        seen = &seenShape;
        if (!parseShape(h.shape, error))
          return false;
      } else {
        return fail(error, "unexpected key '" + key +
                               "' in the header dict (expected exactly "
                               "'descr', 'fortran_order' and 'shape')");
      }
      if (*seen)
        return fail(error, "duplicate key '" + key + "' in the header dict");
      *seen = true;
      skipSpace();
      if (consume(","))
        continue;
      if (consume("}"))
        break;
      return fail(error,
                  "expected ',' or '}' after the value of '" + key + "'");
    }
    skipSpace();
    if (!rest.empty())
      return fail(error, "unexpected characters after the header dict");
    if (!seenDescr)
      return fail(error, "the header dict has no 'descr' key");
    if (!seenFortran)
      return fail(error, "the header dict has no 'fortran_order' key");
    if (!seenShape)
      return fail(error, "the header dict has no 'shape' key");
    return true;
  }

private:
  std::string_view rest;

  static bool fail(std::string &error, const std::string &message) {
    error = message;
    return false;
  }
  void skipSpace() {
    while (!rest.empty() && std::strchr(" \t\r\n", rest.front()))
      rest.remove_prefix(1);
  }
  bool consume(std::string_view token) {
    if (rest.substr(0, token.size()) != token)
      return false;
    rest.remove_prefix(token.size());
    return true;
  }
  bool parseString(std::string &value) {
    if (rest.empty() || (rest.front() != '\'' && rest.front() != '"'))
      return false;
    size_t end = rest.find(rest.front(), 1);
    if (end == std::string_view::npos)
      return false;
    value = std::string(rest.substr(1, end - 1));
    rest.remove_prefix(end + 1);
    return true;
  }
  bool parseShape(std::vector<int64_t> &shape, std::string &error) {
    if (!consume("("))
      return fail(error, "'shape' must be a tuple of ints");
    while (true) {
      skipSpace();
      if (consume(")"))
        return true;
      if (consume("-"))
        return fail(error, "negative dimension in 'shape'");
      size_t n = 0;
      while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9')
        ++n;
      if (n == 0)
        return fail(error, "'shape' must be a tuple of ints");
      int64_t dim = 0;
      for (size_t i = 0; i < n; ++i) {
        int digit = rest[i] - '0';
        if (dim > (std::numeric_limits<int64_t>::max() - digit) / 10)
          return fail(error, "dimension " + std::string(rest.substr(0, n)) +
                                 " in 'shape' overflows int64");
        dim = dim * 10 + digit;
      }
      rest.remove_prefix(n);
      shape.push_back(dim);
      skipSpace();
      if (consume(")"))
        return true;
      if (!consume(","))
        return fail(error, "expected ',' or ')' in 'shape'");
    }
  }
};

uint32_t readLE(const char *p, unsigned n) {
  uint32_t v = 0;
  for (unsigned i = 0; i < n; ++i)
    v |= uint32_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

} // namespace

int64_t npy::Array::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

unsigned npy::dtypeSize(std::string_view descr) {
  if (descr == "|u1" || descr == "<u1")
    return 1;
  if (descr == "<u2" || descr == "<f2")
    return 2;
  if (descr == "<f4")
    return 4;
  if (descr == "<f8" || descr == "<i8")
    return 8;
  return 0;
}

std::string npy::formatShape(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

bool npy::parse(std::string_view bytes, const std::string &source,
                Array &result, std::string &error) {
  auto fail = [&](const std::string &message) {
    error = source + ": " + message;
    return false;
  };
  if (bytes.substr(0, kMagic.size()) != kMagic)
    return fail("not a .npy file (bad magic; expected \"\\x93NUMPY\")");
  if (bytes.size() < kMagic.size() + 2)
    return fail("truncated header: the file ends before the format version");
  unsigned major = static_cast<unsigned char>(bytes[6]);
  unsigned minor = static_cast<unsigned char>(bytes[7]);
  if ((major != 1 && major != 2) || minor != 0)
    return fail("unsupported .npy format version " + std::to_string(major) +
                "." + std::to_string(minor) + " (supported: 1.0, 2.0)");
  size_t lengthSize = major == 1 ? 2 : 4;
  size_t headerStart = 8 + lengthSize;
  if (bytes.size() < headerStart)
    return fail("truncated header: the file ends inside the header length "
                "field");
  uint64_t headerLength = readLE(bytes.data() + 8, unsigned(lengthSize));
  if (headerLength > bytes.size() - headerStart)
    return fail("truncated header: the header length is " +
                std::to_string(headerLength) + " bytes but only " +
                std::to_string(bytes.size() - headerStart) + " follow");
  Header header;
  std::string headerError;
  if (!HeaderParser(bytes.substr(headerStart, headerLength))
           .parse(header, headerError))
    return fail("malformed header: " + headerError);
  unsigned size = dtypeSize(header.descr);
  if (!size)
    return fail("unsupported dtype '" + header.descr +
                "' (supported: '|u1', '<u2', '<f2', '<f4', '<f8', '<i8')");
  if (header.fortranOrder)
    return fail("fortran_order is True; only C-order arrays are supported");
  // A zero dimension makes the array empty whatever the others are.
  uint64_t count = 1;
  bool empty = false;
  for (int64_t d : header.shape)
    empty |= d == 0;
  if (!empty)
    for (int64_t d : header.shape) {
      if (uint64_t(d) > (uint64_t(1) << 62) / count)
        return fail("the number of elements of the shape overflows int64");
      count *= uint64_t(d);
    }
  uint64_t numBytes = empty ? 0 : count * size;
  if (!empty && numBytes / size != count)
    return fail("the data size of the shape overflows int64");
  std::string_view data = bytes.substr(headerStart + headerLength);
  if (data.size() != numBytes)
    return fail(std::string(data.size() < numBytes ? "data too short"
                                                   : "data too long") +
                ": the shape needs " + std::to_string(numBytes) +
                " bytes of '" + header.descr + "' but the file has " +
                std::to_string(data.size()));
  result.descr = header.descr;
  result.shape = header.shape;
  result.bytes.assign(data.begin(), data.end());
  return true;
}

bool npy::read(const std::string &path, Array &result, std::string &error,
               uint64_t maxBytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot read: " + std::strerror(errno);
    return false;
  }
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (size < 0) {
    error = path + ": cannot read: not a regular file";
    return false;
  }
  if (uint64_t(size) > maxBytes) {
    error = path + ": " + std::to_string(size) + " bytes, more than the " +
            std::to_string(maxBytes) + " this tool reads";
    return false;
  }
  std::string bytes(size_t(size), '\0');
  if (size > 0 && !in.read(&bytes[0], size)) {
    error = path + ": cannot read: " + std::strerror(errno);
    return false;
  }
  return parse(bytes, path, result, error);
}

std::string npy::encode(std::string_view descr,
                        const std::vector<int64_t> &shape, const void *data,
                        size_t numBytes) {
  // The dict as numpy's _write_array_header prints it, with room for the
  // first dimension to grow to 21 digits (GROWTH_AXIS_MAX_DIGITS).
  std::string header = "{'descr': '" + std::string(descr) +
                       "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i)
    header += (i ? ", " : "") + std::to_string(shape[i]);
  header += shape.size() == 1 ? ",), }" : "), }";
  if (!shape.empty())
    header.append(21 - std::to_string(shape[0]).size(), ' ');
  size_t unpadded = kMagic.size() + 2 + 2 + header.size() + 1;
  header.append(64 - unpadded % 64, ' ');
  header.push_back('\n');
  std::string out(kMagic);
  out += '\x01';
  out += '\x00';
  out += char(header.size() & 0xff);
  out += char(header.size() >> 8);
  out += header;
  out.append(static_cast<const char *>(data), numBytes);
  return out;
}

bool npy::write(const std::string &path, std::string_view descr,
                const std::vector<int64_t> &shape, const void *data,
                size_t numBytes, std::string &error) {
  std::string bytes = encode(descr, shape, data, numBytes);
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out || !out.write(bytes.data(), std::streamsize(bytes.size()))) {
      error = path + ": cannot write: " + std::strerror(errno);
      std::remove(tmp.c_str());
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    error = path + ": cannot write: " + std::strerror(errno);
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}
