//===- RuntimeTestUtil.h - artifacts on disk for the runtime tests -*- C++ -*-===//
//
// A scratch directory per test with a descriptor (the example, optionally
// edited) and a cubin: a minimal ELF64 header for EM_CUDA, enough for the
// runtime's own checks and the fake driver, not a real kernel.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_UNITTESTS_RUNTIME_RUNTIMETESTUTIL_H
#define LPATTN_UNITTESTS_RUNTIME_RUNTIMETESTUTIL_H

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace lpattn::rt::test {

inline std::string readText(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The example descriptor of docs/launch-descriptor.md.
inline std::string exampleDescriptor() {
  return readText(LPATTN_RT_EXAMPLE_DESCRIPTOR);
}

/// Replaces the first `from` in `text` by `to`; fails loudly when the test's
/// edit no longer matches the example.
inline std::string edit(std::string text, const std::string &from,
                        const std::string &to) {
  size_t at = text.find(from);
  if (at == std::string::npos)
    return "EDIT NOT FOUND: " + from;
  return text.replace(at, from.size(), to);
}

/// The 64-byte ELF header of a real cubin: `nvcc -cubin -arch=sm_90a` (CUDA
/// 13) of a one-line kernel. OSABI 0x41 (CUDA), ABI version 8, ET_EXEC,
/// EM_CUDA (190), e_flags 0x06005a04 (0x5a = 90 in bits 8..15).
inline std::vector<char> realCubinHeaderSm90a() {
  const unsigned char b[64] = {
      0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x41, 0x08, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0xbe, 0x00, 0x01, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xd8,
      0x0d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x18, 0x0a, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x04, 0x5a, 0x00, 0x06, 0x40, 0x00, 0x38,
      0x00, 0x05, 0x00, 0x40, 0x00, 0x0f, 0x00, 0x01, 0x00};
  return std::vector<char>(b, b + 64);
}

/// That header with another machine, ELF type or SM version (the same
/// nvcc for sm_89 writes e_flags 0x06005904): enough for the runtime's own
/// checks and the fake driver, not a real kernel.
inline std::vector<char> fakeCubin(unsigned machine = 190, char type = 2,
                                   unsigned sm = 90) {
  std::vector<char> b = realCubinHeaderSm90a();
  b[16] = type;
  b[18] = static_cast<char>(machine & 0xff);
  b[19] = static_cast<char>(machine >> 8);
  b[49] = static_cast<char>(sm);
  return b;
}

class ScratchDir {
public:
  ScratchDir() {
    char tmpl[] = "/tmp/lpattn-rt-test-XXXXXX";
    const char *d = mkdtemp(tmpl);
    path = d ? d : "/tmp";
  }
  ~ScratchDir() {
    for (const std::string &f : files)
      unlink(f.c_str());
    rmdir(path.c_str());
  }
  std::string write(const std::string &name, const std::string &text) {
    return write(name, std::vector<char>(text.begin(), text.end()));
  }
  std::string write(const std::string &name, const std::vector<char> &bytes) {
    std::string file = path + "/" + name;
    std::ofstream out(file, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    files.push_back(file);
    return file;
  }
  /// NAME.json (the given text) next to attention_fp8.cubin (the bytes).
  std::string artifact(const std::string &descriptor,
                       const std::vector<char> &cubin = fakeCubin()) {
    write("attention_fp8.cubin", cubin);
    return write("attention_fp8.json", descriptor);
  }
  std::string path;

private:
  std::vector<std::string> files;
};

} // namespace lpattn::rt::test

#endif // LPATTN_UNITTESTS_RUNTIME_RUNTIMETESTUTIL_H
