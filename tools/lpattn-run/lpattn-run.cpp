#include "lpattn/Runner/CPUAttention.h"
#include "lpattn/Lab/Generators.h"
#include "lpattn/Lab/Reference.h"
#include "lpattn/Lab/Metrics.h"
#include "llvm/Support/raw_ostream.h"
using namespace lpattn;
int main(int argc, char**argv) {
  AttentionProblem p;
  p.qLen = atoi(argv[1]); p.kvLen = atoi(argv[1]); p.headDim = 128;
  p.policy.qk = p.policy.p = p.policy.v = FloatFormat::F8E4M3FN; p.policy.out = FloatFormat::BF16;
  p.pScale = 256; p.kvOrder = KVOrder::Reverse;
  std::string text = p.toMLIR();
  llvm::outs() << text;
  auto c = CPUAttention::compile(text, CPUCompileOptions{});
  if (!c) { llvm::errs() << llvm::toString(c.takeError()) << "\n"; return 1; }
  auto q = lab::randomNormal({1,1,p.qLen,128}, 1), k = lab::randomNormal({1,1,p.kvLen,128}, 2), v = lab::randomNormal({1,1,p.kvLen,128}, 3);
  auto r = (*c)->run(q,k,v);
  if (!r) { llvm::errs() << llvm::toString(r.takeError()) << "\n"; return 1; }
  auto ref = lab::referenceAttention(q,k,v, {});
  if (!ref) { llvm::errs() << llvm::toString(ref.takeError()) << "\n"; return 1; }
  auto m = lab::computeMetrics(r->output, *ref);
  llvm::outs() << "seconds " << r->seconds << " mse " << m->mse << " maxabs " << m->maxAbsError << " nan " << m->numNaN << "\n";
}
