//===- RunReference.cpp - the float64 reference of a compiled attention --===//

#include "lpattn/Runner/RunReference.h"

using namespace lpattn;

lab::ReferenceOptions
lpattn::getReferenceOptions(const CPUAttention::Signature &sig,
                            const lab::HostTensor *mask,
                            const RunDescales &descales) {
  lab::ReferenceOptions ref;
  ref.scale = sig.softmaxScale;
  ref.causal = sig.causal;
  if (sig.hasMask)
    ref.mask = mask;
  // The op multiplies by the f32 descales it is given; so does the
  // reference (in double).
  if (sig.hasDescales) {
    ref.qDescale = descales.perTensor[0];
    ref.kDescale = descales.perTensor[1];
    ref.vDescale = descales.perTensor[2];
    // Per (batch, KV head): the values the op read (per-tensor ones fill
    // every entry, which is the per-tensor reference above).
    if (sig.perHeadDescales && descales.perHead) {
      ref.qHeadDescale = &(*descales.perHead)[0];
      ref.kHeadDescale = &(*descales.perHead)[1];
      ref.vHeadDescale = &(*descales.perHead)[2];
    }
  }
  return ref;
}

llvm::Expected<lab::HostTensorF64>
lpattn::referenceFor(const CPUAttention::Signature &sig,
                     const lab::HostTensor &q, const lab::HostTensor &k,
                     const lab::HostTensor &v, const lab::HostTensor *mask,
                     const RunDescales &descales) {
  if (sig.hasMask && !mask)
    return llvm::createStringError("the attention has a mask operand; no "
                                   "mask was given for its reference");
  return lab::referenceAttention(q, k, v,
                                 getReferenceOptions(sig, mask, descales));
}
