//===- RunReference.cpp - the float64 reference of a compiled attention --===//

#include "lpattn/Runner/RunReference.h"

using namespace lpattn;

lab::ReferenceOptions
lpattn::getReferenceOptions(const CPUAttention::Signature &sig,
                            const lab::HostTensor *mask,
                            std::array<float, 3> descales) {
  lab::ReferenceOptions ref;
  ref.scale = sig.softmaxScale;
  ref.causal = sig.causal;
  if (sig.hasMask)
    ref.mask = mask;
  // The op multiplies by the f32 descales it is given; so does the
  // reference (in double).
  if (sig.hasDescales) {
    ref.qDescale = descales[0];
    ref.kDescale = descales[1];
    ref.vDescale = descales[2];
  }
  return ref;
}

llvm::Expected<lab::HostTensorF64>
lpattn::referenceFor(const CPUAttention::Signature &sig,
                     const lab::HostTensor &q, const lab::HostTensor &k,
                     const lab::HostTensor &v, const lab::HostTensor *mask,
                     std::array<float, 3> descales) {
  if (sig.hasMask && !mask)
    return llvm::createStringError("the attention has a mask operand; no "
                                   "mask was given for its reference");
  return lab::referenceAttention(q, k, v,
                                 getReferenceOptions(sig, mask, descales));
}
