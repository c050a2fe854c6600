//===- Npy.cpp - NumPy .npy reading and writing ---------------------------===//
//
// The format (numpy/lib/format.py): the magic "\x93NUMPY", a major and a minor
// version byte, the header length (uint16 little-endian in 1.0, uint32 in
// 2.0), then the header, a Python dict literal
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces and a final '\n', then the raw data. Every length and
// size read from the file is checked against the bytes actually there before
// it is used, so no input can make the reader read out of bounds.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Lab/Npy.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/bit.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>

using namespace lpattn::lab;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;
namespace endian = llvm::support::endian;

static constexpr StringRef kMagic("\x93NUMPY", 6);

static Error npyError(StringRef source, const llvm::Twine &message) {
  return llvm::createStringError(source + ": " + message);
}

namespace {

/// The three entries of a .npy header dict.
struct NpyHeader {
  std::string descr;
  bool fortranOrder = false;
  std::vector<int64_t> shape;
};

/// Parses the subset of Python literal syntax numpy writes in headers: a dict
/// of string keys to a string, a bool or a tuple of non-negative ints.
/// Whitespace between tokens and trailing commas are accepted.
class HeaderParser {
public:
  explicit HeaderParser(StringRef text) : rest(text) {}

  Expected<NpyHeader> parse() {
    NpyHeader header;
    bool seenDescr = false, seenFortran = false, seenShape = false;
    skipSpace();
    if (!consume('{'))
      return fail("the header is not a Python dict literal");
    while (true) {
      skipSpace();
      if (consume('}'))
        break;
      std::optional<std::string> key = parseString();
      if (!key)
        return fail("expected a quoted key in the header dict");
      skipSpace();
      if (!consume(':'))
        return fail("expected ':' after key '" + *key + "'");
      skipSpace();
      bool *seen = nullptr;
      if (*key == "descr") {
        seen = &seenDescr;
        std::optional<std::string> descr = parseString();
        if (!descr)
          return fail("'descr' must be a quoted string");
        header.descr = *descr;
      } else if (*key == "fortran_order") {
        seen = &seenFortran;
        if (consume("True"))
          header.fortranOrder = true;
        else if (consume("False"))
          header.fortranOrder = false;
        else
          return fail("'fortran_order' must be True or False");
      } else if (*key == "shape") {
        seen = &seenShape;
        if (Error err = parseShape(header.shape))
          return std::move(err);
      } else {
        return fail("unexpected key '" + *key +
                    "' in the header dict (expected exactly 'descr', "
                    "'fortran_order' and 'shape')");
      }
      if (*seen)
        return fail("duplicate key '" + *key + "' in the header dict");
      *seen = true;
      skipSpace();
      if (consume(','))
        continue;
      if (consume('}'))
        break;
      return fail("expected ',' or '}' after the value of '" + *key + "'");
    }
    skipSpace();
    if (!rest.empty())
      return fail("unexpected characters after the header dict");
    for (auto [seen, name] : {std::pair(seenDescr, "descr"),
                              std::pair(seenFortran, "fortran_order"),
                              std::pair(seenShape, "shape")})
      if (!seen)
        return fail(llvm::Twine("the header dict has no '") + name + "' key");
    return header;
  }

private:
  StringRef rest;

  static Error fail(const llvm::Twine &message) {
    return llvm::createStringError(message);
  }
  void skipSpace() { rest = rest.ltrim(" \t\r\n"); }
  bool consume(char c) { return rest.consume_front(StringRef(&c, 1)); }
  bool consume(StringRef token) { return rest.consume_front(token); }

  /// A '...' or "..." string without escapes (numpy never writes any).
  std::optional<std::string> parseString() {
    if (rest.empty() || (rest.front() != '\'' && rest.front() != '"'))
      return std::nullopt;
    char quote = rest.front();
    size_t end = rest.find(quote, 1);
    if (end == StringRef::npos)
      return std::nullopt;
    std::string value = rest.substr(1, end - 1).str();
    rest = rest.drop_front(end + 1);
    return value;
  }

  /// A tuple of ints: "()", "(3,)", "(2, 3)"; dims must be >= 0 and fit
  /// int64.
  Error parseShape(std::vector<int64_t> &shape) {
    if (!consume('('))
      return fail("'shape' must be a tuple of ints");
    while (true) {
      skipSpace();
      if (consume(')'))
        return Error::success();
      bool negative = consume('-');
      size_t numDigits = rest.find_first_not_of("0123456789");
      numDigits = std::min(numDigits, rest.size());
      if (numDigits == 0)
        return fail("'shape' must be a tuple of ints");
      StringRef digits = rest.take_front(numDigits);
      rest = rest.drop_front(numDigits);
      if (negative)
        return fail("negative dimension -" + digits + " in 'shape'");
      int64_t dim = 0;
      for (char digit : digits)
        if (llvm::MulOverflow<int64_t>(dim, 10, dim) ||
            llvm::AddOverflow<int64_t>(dim, digit - '0', dim))
          return fail("dimension " + digits + " in 'shape' overflows int64");
      shape.push_back(dim);
      skipSpace();
      if (consume(')'))
        return Error::success();
      if (!consume(','))
        return fail("expected ',' or ')' in 'shape'");
    }
  }
};

/// A little-endian dtype lpattn reads: the float ones as numbers, the
/// unsigned ones as storage codes (parseNpyRaw only).
struct DType {
  StringRef descr;
  unsigned byteSize;
};
constexpr DType kDTypes[] = {{"<f2", 2}, {"<f4", 4}, {"<f8", 8}};
constexpr DType kCodeDTypes[] = {{"<f2", 2}, {"<f4", 4}, {"<f8", 8},
                                 {"|u1", 1}, {"<u2", 2}};

/// A parsed file: its header and its data bytes (checked against the
/// shape).
struct ParsedNpy {
  NpyHeader header;
  const DType *dtype;
  StringRef data;
  int64_t numElements;
};

} // namespace

static Expected<ParsedNpy> parseNpyFile(StringRef bytes, StringRef source,
                                        llvm::ArrayRef<DType> dtypes,
                                        StringRef supported) {
  if (!bytes.starts_with(kMagic))
    return npyError(source, "not a .npy file (bad magic; expected "
                            "\"\\x93NUMPY\")");
  if (bytes.size() < kMagic.size() + 2)
    return npyError(source, "truncated header: the file ends before the "
                            "format version");
  unsigned major = static_cast<unsigned char>(bytes[6]);
  unsigned minor = static_cast<unsigned char>(bytes[7]);
  if ((major != 1 && major != 2) || minor != 0)
    return npyError(source, "unsupported .npy format version " +
                                llvm::Twine(major) + "." + llvm::Twine(minor) +
                                " (supported: 1.0, 2.0)");
  size_t lengthSize = major == 1 ? 2 : 4;
  size_t headerStart = 8 + lengthSize;
  if (bytes.size() < headerStart)
    return npyError(source, "truncated header: the file ends inside the "
                            "header length field");
  uint64_t headerLength = major == 1 ? endian::read16le(bytes.data() + 8)
                                     : endian::read32le(bytes.data() + 8);
  if (headerLength > bytes.size() - headerStart)
    return npyError(source, "truncated header: the header length is " +
                                llvm::Twine(headerLength) + " bytes but only " +
                                llvm::Twine(bytes.size() - headerStart) +
                                " follow");
  Expected<NpyHeader> header =
      HeaderParser(bytes.substr(headerStart, headerLength)).parse();
  if (!header)
    return npyError(source,
                    "malformed header: " + llvm::toString(header.takeError()));

  const DType *dtype = llvm::find_if(
      dtypes, [&](const DType &d) { return d.descr == header->descr; });
  if (dtype == dtypes.end())
    return npyError(source, "unsupported dtype '" + header->descr +
                                "' (supported: " + supported + ")");
  if (header->fortranOrder)
    return npyError(source, "fortran_order is True; only C-order arrays are "
                            "supported");

  // Like numpy's arbitrary-precision product, a zero dimension makes the
  // array empty whatever the other dimensions are.
  int64_t numElements = llvm::is_contained(header->shape, 0) ? 0 : 1;
  int64_t numBytes = 0;
  for (int64_t dim : header->shape)
    if (numElements != 0 && llvm::MulOverflow(numElements, dim, numElements))
      return npyError(source, "the number of elements of the shape "
                              "overflows int64");
  if (llvm::MulOverflow<int64_t>(numElements, dtype->byteSize, numBytes))
    return npyError(source, "the data size of the shape overflows int64");
  StringRef data = bytes.drop_front(headerStart + headerLength);
  if (data.size() != static_cast<uint64_t>(numBytes))
    return npyError(source,
                    llvm::Twine(data.size() < static_cast<uint64_t>(numBytes)
                                    ? "data too short"
                                    : "data too long") +
                        ": the shape needs " + llvm::Twine(numBytes) +
                        " bytes of '" + dtype->descr + "' but the file has " +
                        llvm::Twine(data.size()));
  return ParsedNpy{std::move(*header), dtype, data, numElements};
}

/// Decodes one little-endian element of `byteSize` bytes ('<f2', '<f4' or
/// '<f8') to T. '<f4' to float is a bit copy (NaN payloads survive).
template <typename T>
static T decodeElement(unsigned byteSize, const char *bytes) {
  if (byteSize == 4)
    return llvm::bit_cast<float>(endian::read32le(bytes));
  if (byteSize == 8)
    return static_cast<T>(llvm::bit_cast<double>(endian::read64le(bytes)));
  // f16 -> f32 is exact; APFloat keeps us independent of host half support.
  llvm::APFloat half(llvm::APFloat::IEEEhalf(),
                     llvm::APInt(16, endian::read16le(bytes)));
  return half.convertToFloat();
}

template <typename T>
static Expected<HostTensorOf<T>> parseNpyAs(StringRef bytes, StringRef source) {
  Expected<ParsedNpy> parsed =
      parseNpyFile(bytes, source, kDTypes, "'<f2', '<f4', '<f8'");
  if (!parsed)
    return parsed.takeError();
  HostTensorOf<T> tensor{parsed->header.shape, {}};
  tensor.data.reserve(parsed->numElements);
  unsigned size = parsed->dtype->byteSize;
  for (int64_t i = 0; i < parsed->numElements; ++i)
    tensor.data.push_back(
        decodeElement<T>(size, parsed->data.data() + i * size));
  return tensor;
}

Expected<NpyRaw> lpattn::lab::parseNpyRaw(StringRef bytes, StringRef source) {
  Expected<ParsedNpy> parsed = parseNpyFile(
      bytes, source, kCodeDTypes, "'<f2', '<f4', '<f8', '|u1', '<u2'");
  if (!parsed)
    return parsed.takeError();
  return NpyRaw{parsed->header.descr, parsed->header.shape,
                parsed->data.str()};
}

Expected<NpyRaw> lpattn::lab::readNpyRaw(StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return npyError(path, "cannot read: " + buffer.getError().message());
  return parseNpyRaw((*buffer)->getBuffer(), path);
}

Expected<HostTensor> lpattn::lab::parseNpy(StringRef bytes, StringRef source) {
  return parseNpyAs<float>(bytes, source);
}

Expected<HostTensorF64> lpattn::lab::parseNpyDouble(StringRef bytes,
                                                    StringRef source) {
  return parseNpyAs<double>(bytes, source);
}

template <typename T>
static Expected<HostTensorOf<T>> readNpyAs(StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return npyError(path, "cannot read: " + buffer.getError().message());
  return parseNpyAs<T>((*buffer)->getBuffer(), path);
}

Expected<HostTensor> lpattn::lab::readNpy(StringRef path) {
  return readNpyAs<float>(path);
}

Expected<HostTensorF64> lpattn::lab::readNpyDouble(StringRef path) {
  return readNpyAs<double>(path);
}

Expected<std::string> lpattn::lab::encodeNpyRaw(StringRef descr,
                                                llvm::ArrayRef<int64_t> shape,
                                                StringRef data) {
  int64_t numElements = 1;
  for (int64_t dim : shape) {
    if (dim < 0)
      return llvm::createStringError("cannot encode .npy: negative dimension " +
                                     llvm::Twine(dim));
    numElements *= dim;
  }
  const DType *dtype = llvm::find_if(
      kCodeDTypes, [&](const DType &d) { return d.descr == descr; });
  if (dtype == std::end(kCodeDTypes))
    return llvm::createStringError("cannot encode .npy: unsupported dtype '" +
                                   descr + "'");
  if (data.size() != static_cast<uint64_t>(numElements) * dtype->byteSize)
    return llvm::createStringError(
        "cannot encode .npy: " + llvm::Twine(data.size() / dtype->byteSize) +
        " data elements but the shape has " + llvm::Twine(numElements));

  // The dict as numpy's _write_array_header prints it: sorted keys, repr of
  // the shape tuple, then spare room for the first dimension to grow to 21
  // digits (GROWTH_AXIS_MAX_DIGITS).
  std::string header;
  llvm::raw_string_ostream os(header);
  os << "{'descr': '" << descr << "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i)
    os << (i ? ", " : "") << shape[i];
  os << (shape.size() == 1 ? ",), }" : "), }");
  if (!shape.empty())
    header.append(21 - std::to_string(shape[0]).size(), ' ');
  // _wrap_header: pad with spaces and a '\n' so that magic + version +
  // uint16 length + header is a multiple of 64 (a full 64 if already one).
  size_t unpadded = kMagic.size() + 2 + 2 + header.size() + 1;
  header.append(64 - unpadded % 64, ' ');
  header.push_back('\n');
  if (header.size() > UINT16_MAX)
    return llvm::createStringError("cannot encode .npy: the header of " +
                                   llvm::Twine(shape.size()) +
                                   " dimensions exceeds format 1.0");

  std::string bytes(kMagic);
  bytes += {'\x01', '\x00'};
  char length[2];
  endian::write16le(length, static_cast<uint16_t>(header.size()));
  bytes.append(length, 2);
  bytes += header;
  bytes += data;
  return bytes;
}

template <typename T>
static Expected<std::string> encodeNpyAs(const HostTensorOf<T> &tensor) {
  for (int64_t dim : tensor.shape)
    if (dim < 0)
      return llvm::createStringError("cannot encode .npy: negative dimension " +
                                     llvm::Twine(dim));
  if (tensor.data.size() != static_cast<size_t>(tensor.numElements()))
    return llvm::createStringError(
        "cannot encode .npy: " + llvm::Twine(tensor.data.size()) +
        " data elements but the shape has " +
        llvm::Twine(tensor.numElements()));
  std::string data;
  data.reserve(tensor.data.size() * sizeof(T));
  for (T value : tensor.data) {
    char element[sizeof(T)];
    if constexpr (sizeof(T) == 4)
      endian::write32le(element, llvm::bit_cast<uint32_t>(value));
    else
      endian::write64le(element, llvm::bit_cast<uint64_t>(value));
    data.append(element, sizeof(T));
  }
  return encodeNpyRaw(sizeof(T) == 4 ? "<f4" : "<f8", tensor.shape, data);
}

Expected<std::string> lpattn::lab::encodeNpy(const HostTensor &tensor) {
  return encodeNpyAs(tensor);
}

Expected<std::string> lpattn::lab::encodeNpy(const HostTensorF64 &tensor) {
  return encodeNpyAs(tensor);
}

template <typename T>
static Error writeNpyAs(StringRef path, const HostTensorOf<T> &tensor) {
  Expected<std::string> bytes = encodeNpyAs(tensor);
  if (!bytes)
    return npyError(path, llvm::toString(bytes.takeError()));
  return llvm::writeToOutput(path, [&](llvm::raw_ostream &os) {
    os << *bytes;
    return Error::success();
  });
}

Error lpattn::lab::writeNpy(StringRef path, const HostTensor &tensor) {
  return writeNpyAs(path, tensor);
}

Error lpattn::lab::writeNpy(StringRef path, const HostTensorF64 &tensor) {
  return writeNpyAs(path, tensor);
}

Error lpattn::lab::writeNpyRaw(StringRef path, StringRef descr,
                               llvm::ArrayRef<int64_t> shape, StringRef data) {
  Expected<std::string> bytes = encodeNpyRaw(descr, shape, data);
  if (!bytes)
    return npyError(path, llvm::toString(bytes.takeError()));
  return llvm::writeToOutput(path, [&](llvm::raw_ostream &os) {
    os << *bytes;
    return Error::success();
  });
}
