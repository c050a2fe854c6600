//===- CastKernelsFixture.h - gtest fixture owning the cast kernels -*- C++ -*-===//
//
// Compiles the JIT cast kernels once per test suite; each test fails with
// the compiler's diagnostics if that did not work.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_UNITTESTS_CONVERSION_CASTKERNELSFIXTURE_H
#define LPATTN_UNITTESTS_CONVERSION_CASTKERNELSFIXTURE_H

#include "CastKernels.h"

#include "gtest/gtest.h"

namespace lpattn::casts {

class CastKernelsFixture : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    auto created = CastKernels::create(/*optLevel=*/3);
    if (!created) {
      compileError = llvm::toString(created.takeError());
      return;
    }
    kernels = std::move(*created);
  }
  static void TearDownTestSuite() { kernels.reset(); }
  void SetUp() override {
    ASSERT_TRUE(kernels) << "compiling the cast kernels failed:\n"
                         << compileError;
  }

  static inline std::unique_ptr<CastKernels> kernels;
  static inline std::string compileError;
};

} // namespace lpattn::casts

#endif // LPATTN_UNITTESTS_CONVERSION_CASTKERNELSFIXTURE_H
