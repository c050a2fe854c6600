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

/// 64 bytes: ELF magic, ELFCLASS64, little-endian, ET_EXEC, EM_CUDA (190).
inline std::vector<char> fakeCubin(unsigned machine = 190, char type = 2) {
  std::vector<char> b(64, 0);
  b[0] = 0x7f, b[1] = 'E', b[2] = 'L', b[3] = 'F', b[4] = 2, b[5] = 1, b[6] = 1;
  b[16] = type;
  b[18] = static_cast<char>(machine & 0xff);
  b[19] = static_cast<char>(machine >> 8);
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
