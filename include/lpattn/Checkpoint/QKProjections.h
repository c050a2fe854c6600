//===- QKProjections.h - Q/K projections of a checkpoint --------*- C++ -*-===//
//
// Finds the query and key projections of every attention layer of a
// checkpoint by the tensor names of common architectures, and returns them
// in one layout, that of torch.nn.Linear: W [heads * head_dim, d_model],
// q = W x, so that head h's rows are W[h * head_dim, (h + 1) * head_dim) and
// its logits are x^T W_q^h^T W_k^g y (g = h / (Hq / Hkv), GQA).
//
//   GPT-2:               [P.]h.N.attn.c_attn.weight     [d, 3d] (Conv1D,
//                        y = x W: transposed, Q K V side by side)
//   Llama/Mistral/Qwen:  [P.]layers.N.self_attn.q_proj.weight [Hq dh, d]
//                        [P.]layers.N.self_attn.k_proj.weight [Hkv dh, d]
//
// with any prefix P (model., transformer., ...). Head counts come from the
// options or a Hugging Face config.json. No MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_CHECKPOINT_QKPROJECTIONS_H
#define LPATTN_CHECKPOINT_QKPROJECTIONS_H

#include "lpattn/Checkpoint/Safetensors.h"

#include <optional>
#include <string>
#include <vector>

namespace lpattn::checkpoint {

/// What is known about the heads; unset fields are derived from the tensor
/// shapes where they can be.
struct HeadLayout {
  std::optional<int64_t> numHeads;   ///< query heads Hq
  std::optional<int64_t> numKVHeads; ///< key/value heads Hkv (GQA)
  std::optional<int64_t> headDim;    ///< dh
};

/// The head layout a Hugging Face config.json states (num_attention_heads
/// or n_head; num_key_value_heads; head_dim); an error if the file is not a
/// JSON object or a present field is not a positive integer.
llvm::Expected<HeadLayout> readHeadLayoutFromConfig(llvm::StringRef path);

/// `preferred`'s fields where set, `fallback`'s otherwise.
HeadLayout mergeHeadLayouts(const HeadLayout &preferred,
                            const HeadLayout &fallback);

enum class Architecture { GPT2, Llama };
llvm::StringRef getArchitectureName(Architecture architecture);

/// One attention layer: where its projections are and their head layout.
struct QKLayer {
  int64_t layer = 0;
  Architecture architecture = Architecture::Llama;
  std::string queryTensor; ///< for GPT-2 both name the fused c_attn
  std::string keyTensor;
  /// The norm before the attention, if the checkpoint has it (Llama's
  /// RMSNorm input_layernorm.weight; GPT-2's LayerNorm ln_1.weight and
  /// ln_1.bias): it bounds the norm of the tokens the projections see.
  std::string normWeightTensor;
  std::string normBiasTensor;
  int64_t modelDim = 0;
  int64_t numHeads = 0;
  int64_t numKVHeads = 0;
  int64_t headDim = 0;
};

/// Every attention layer of `file`, by layer index. Errors: no recognized
/// name (the message lists the recognized ones), a query projection without
/// its key projection, shapes that disagree with each other or with
/// `layout`, an unknown head count.
llvm::Expected<std::vector<QKLayer>>
findQKLayers(const SafetensorsFile &file, const HeadLayout &layout);

/// The projections of one layer in nn.Linear layout (row-major):
/// query [numHeads * headDim, modelDim], key [numKVHeads * headDim,
/// modelDim].
struct QKWeights {
  std::vector<float> query;
  std::vector<float> key;
};
llvm::Expected<QKWeights> loadQKWeights(const SafetensorsFile &file,
                                        const QKLayer &layer);

} // namespace lpattn::checkpoint

#endif // LPATTN_CHECKPOINT_QKPROJECTIONS_H
