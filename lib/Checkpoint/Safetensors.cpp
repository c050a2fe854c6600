//===- Safetensors.cpp - reading .safetensors checkpoints -----------------===//

#include "lpattn/Checkpoint/Safetensors.h"

#include "lpattn/Numerics/Formats.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>

using namespace lpattn;
using namespace lpattn::checkpoint;

namespace {

/// Bytes before the JSON header: its length, u64 little-endian.
constexpr uint64_t kLengthFieldBytes = 8;

llvm::Error makeError(llvm::StringRef source, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 source + ": " + message);
}

/// A non-negative JSON integer, or nullopt.
std::optional<int64_t> getNonNegative(const llvm::json::Value &value) {
  std::optional<int64_t> number = value.getAsInteger();
  if (!number || *number < 0)
    return std::nullopt;
  return number;
}

/// Checks one header entry and returns it as a tensor; `dataBytes` is the
/// size of the data section.
llvm::Expected<SafetensorsTensor> parseEntry(llvm::StringRef source,
                                             llvm::StringRef name,
                                             const llvm::json::Value &value,
                                             uint64_t dataBytes) {
  auto entryError = [&](const llvm::Twine &message) {
    return makeError(source, "tensor '" + name + "': " + message);
  };
  const llvm::json::Object *entry = value.getAsObject();
  if (!entry)
    return entryError("header entry is not a JSON object");
  SafetensorsTensor tensor;
  tensor.name = name.str();

  std::optional<llvm::StringRef> dtype = entry->getString("dtype");
  if (!dtype)
    return entryError("missing string \"dtype\"");
  tensor.dtype = dtype->str();

  const llvm::json::Array *shape = entry->getArray("shape");
  if (!shape)
    return entryError("missing array \"shape\"");
  int64_t numElements = 1;
  for (const llvm::json::Value &dim : *shape) {
    std::optional<int64_t> size = getNonNegative(dim);
    if (!size)
      return entryError("\"shape\" holds something other than a "
                        "non-negative integer");
    tensor.shape.push_back(*size);
    if (llvm::MulOverflow(numElements, *size, numElements))
      return entryError("the element count of \"shape\" overflows 64 bits");
  }

  const llvm::json::Array *offsets = entry->getArray("data_offsets");
  if (!offsets || offsets->size() != 2 || !getNonNegative((*offsets)[0]) ||
      !getNonNegative((*offsets)[1]))
    return entryError("\"data_offsets\" is not [begin, end] of two "
                      "non-negative integers");
  tensor.begin = *getNonNegative((*offsets)[0]);
  tensor.end = *getNonNegative((*offsets)[1]);
  if (tensor.begin > tensor.end)
    return entryError("data_offsets [" + llvm::Twine(tensor.begin) + ", " +
                      llvm::Twine(tensor.end) + "] end before they begin");
  if (tensor.end > dataBytes)
    return entryError("data_offsets [" + llvm::Twine(tensor.begin) + ", " +
                      llvm::Twine(tensor.end) + "] run past the end of the " +
                      llvm::Twine(dataBytes) + " data bytes");
  // A dtype the format does not define has no size to check; reading such a
  // tensor is refused later (readFloats).
  if (std::optional<unsigned> elementBytes =
          getSafetensorsDTypeSize(tensor.dtype)) {
    int64_t bytes = 0;
    if (llvm::MulOverflow(numElements, static_cast<int64_t>(*elementBytes),
                          bytes) ||
        static_cast<uint64_t>(bytes) != tensor.end - tensor.begin)
      return entryError("data_offsets span " +
                        llvm::Twine(tensor.end - tensor.begin) +
                        " bytes, but shape and dtype " + tensor.dtype +
                        " need " + llvm::Twine(numElements) + " x " +
                        llvm::Twine(*elementBytes) + " bytes");
  }
  return tensor;
}

/// The number of keys of the top-level object of `json`, which
/// llvm::json::parse has accepted, counted in the text: llvm::json keeps one
/// of two equal keys silently, and a tensor named twice is ambiguous.
size_t countTopLevelKeys(llvm::StringRef json) {
  size_t keys = 0;
  int depth = 0;
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == '"') {
      // Skip the string, escapes included.
      for (++i; i < json.size() && json[i] != '"'; ++i)
        if (json[i] == '\\')
          ++i;
      // A string at depth 1 followed by ':' is a top-level key.
      size_t next = json.find_first_not_of(" \t\r\n", i + 1);
      if (depth == 1 && next != llvm::StringRef::npos && json[next] == ':')
        ++keys;
    }
  }
  return keys;
}

} // namespace

int64_t SafetensorsTensor::getNumElements() const {
  int64_t count = 1;
  for (int64_t size : shape)
    count *= size; // checked against overflow when the header was parsed
  return count;
}

std::optional<unsigned>
lpattn::checkpoint::getSafetensorsDTypeSize(llvm::StringRef dtype) {
  return llvm::StringSwitch<std::optional<unsigned>>(dtype)
      .Cases({"BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3"}, 1)
      .Cases({"U16", "I16", "F16", "BF16"}, 2)
      .Cases({"U32", "I32", "F32"}, 4)
      .Cases({"U64", "I64", "F64"}, 8)
      .Default(std::nullopt);
}

llvm::Expected<SafetensorsFile>
SafetensorsFile::open(llvm::StringRef path) {
  // Not null-terminated (no copy of the data to add one); never volatile.
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError(path, "cannot open: " + buffer.getError().message());
  return parse(std::move(*buffer), path);
}

llvm::Expected<SafetensorsFile>
SafetensorsFile::parse(std::unique_ptr<llvm::MemoryBuffer> buffer,
                       llvm::StringRef source) {
  llvm::StringRef bytes = buffer->getBuffer();
  if (bytes.size() < kLengthFieldBytes)
    return makeError(source, "truncated: " + llvm::Twine(bytes.size()) +
                                 " bytes, fewer than the 8-byte header "
                                 "length");
  uint64_t headerBytes =
      llvm::support::endian::read64le(bytes.data());
  uint64_t available = bytes.size() - kLengthFieldBytes;
  if (headerBytes > kMaxSafetensorsHeaderBytes)
    return makeError(source, "header length " + llvm::Twine(headerBytes) +
                                 " exceeds the limit of " +
                                 llvm::Twine(kMaxSafetensorsHeaderBytes) +
                                 " bytes (not a safetensors file?)");
  if (headerBytes > available)
    return makeError(source, "truncated: the header length is " +
                                 llvm::Twine(headerBytes) +
                                 " bytes, but only " + llvm::Twine(available) +
                                 " bytes follow it");
  llvm::StringRef headerText = bytes.substr(kLengthFieldBytes, headerBytes);
  llvm::Expected<llvm::json::Value> header = llvm::json::parse(headerText);
  if (!header)
    return makeError(source, "header is not valid JSON: " +
                                 llvm::toString(header.takeError()));
  const llvm::json::Object *entries = header->getAsObject();
  if (!entries)
    return makeError(source, "header is not a JSON object");
  if (countTopLevelKeys(headerText) != entries->size())
    return makeError(source, "header names a tensor twice");

  SafetensorsFile file;
  file.source = source.str();
  file.data = bytes.substr(kLengthFieldBytes + headerBytes);
  for (const auto &[key, value] : *entries) {
    llvm::StringRef name = key;
    if (name == "__metadata__") {
      const llvm::json::Object *metadata = value.getAsObject();
      if (!metadata)
        return makeError(source, "\"__metadata__\" is not a JSON object");
      for (const auto &[metaKey, metaValue] : *metadata) {
        std::optional<llvm::StringRef> text = metaValue.getAsString();
        if (!text)
          return makeError(source, "\"__metadata__\" entry '" +
                                       llvm::StringRef(metaKey) +
                                       "' is not a string");
        file.metadata[metaKey.str()] = text->str();
      }
      continue;
    }
    llvm::Expected<SafetensorsTensor> tensor =
        parseEntry(source, name, value, file.data.size());
    if (!tensor)
      return tensor.takeError();
    file.tensors.push_back(std::move(*tensor));
  }

  // Tensors share no bytes (the format requires it; an overlap means a
  // corrupted header, and two weights read from the same bytes would be
  // silently wrong).
  llvm::sort(file.tensors, [](const SafetensorsTensor &a,
                              const SafetensorsTensor &b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  const SafetensorsTensor *previous = nullptr;
  for (const SafetensorsTensor &tensor : file.tensors) {
    if (tensor.begin == tensor.end)
      continue; // empty tensors occupy no bytes
    if (previous && tensor.begin < previous->end)
      return makeError(source, "tensors '" + previous->name + "' and '" +
                                   tensor.name + "' overlap in the data");
    previous = &tensor;
  }
  for (size_t i = 0; i < file.tensors.size(); ++i)
    file.index[file.tensors[i].name] = i;
  file.buffer = std::move(buffer);
  return file;
}

const SafetensorsTensor *SafetensorsFile::find(llvm::StringRef name) const {
  auto it = index.find(name);
  return it == index.end() ? nullptr : &tensors[it->second];
}

llvm::Expected<std::vector<float>>
SafetensorsFile::readFloats(llvm::StringRef name) const {
  const SafetensorsTensor *tensor = find(name);
  if (!tensor)
    return makeError(source, "no tensor '" + name + "'");
  std::optional<FloatFormat> format =
      llvm::StringSwitch<std::optional<FloatFormat>>(tensor->dtype)
          .Case("F32", FloatFormat::F32)
          .Case("F16", FloatFormat::F16)
          .Case("BF16", FloatFormat::BF16)
          .Default(std::nullopt);
  if (!format)
    return makeError(source, "tensor '" + name + "' has dtype " +
                                 tensor->dtype +
                                 "; expected F32, F16 or BF16");
  const char *bytes = data.data() + tensor->begin;
  size_t count = tensor->getNumElements();
  std::vector<float> values(count);
  unsigned elementBytes = getBitWidth(*format) / 8;
  for (size_t i = 0; i < count; ++i) {
    const char *element = bytes + i * elementBytes;
    uint32_t bits = elementBytes == 4 ? llvm::support::endian::read32le(element)
                                      : llvm::support::endian::read16le(element);
    values[i] = decode(bits, *format);
  }
  return values;
}
