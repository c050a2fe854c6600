//===- LastError.h - the per-thread last error of the C API -----*- C++ -*-===//
//
// lpattnGetLastError() (lpattn-c/Runner.h) reads this: every fallible C API
// call clears it first and sets it when it fails.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_LIB_CAPI_LASTERROR_H
#define LPATTN_LIB_CAPI_LASTERROR_H

#include "llvm/Support/Error.h"

#include <string>

namespace lpattn::capi {

/// The calling thread's last error text.
std::string &lastError();

/// Clears the last error (at the start of every fallible call).
inline void clearLastError() { lastError().clear(); }

/// Keeps `message` as the last error.
inline void setLastError(std::string message) {
  lastError() = std::move(message);
}

/// Keeps the text of `error` as the last error (and consumes it).
inline void setLastError(llvm::Error error) {
  setLastError(llvm::toString(std::move(error)));
}

} // namespace lpattn::capi

#endif // LPATTN_LIB_CAPI_LASTERROR_H
