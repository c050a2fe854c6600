//===- QKProjections.cpp - Q/K projections of a checkpoint ----------------===//

#include "lpattn/Checkpoint/QKProjections.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Regex.h"

#include <map>

using namespace lpattn;
using namespace lpattn::checkpoint;

namespace {

llvm::Error makeError(llvm::StringRef source, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 source + ": " + message);
}

constexpr llvm::StringLiteral kRecognizedNames =
    "h.N.attn.c_attn.weight (GPT-2), layers.N.self_attn.q_proj.weight and "
    "layers.N.self_attn.k_proj.weight (Llama, Mistral, Qwen), with any "
    "prefix such as 'model.' or 'transformer.'";

/// A 2-D tensor's shape, or an error naming it.
llvm::Expected<std::pair<int64_t, int64_t>>
getMatrixShape(const SafetensorsFile &file, const SafetensorsTensor &tensor) {
  if (tensor.shape.size() != 2)
    return makeError(file.getSource(),
                     "tensor '" + tensor.name + "' has " +
                         llvm::Twine(tensor.shape.size()) +
                         " dimensions; expected a 2-D projection weight");
  if (tensor.shape[0] == 0 || tensor.shape[1] == 0)
    return makeError(file.getSource(),
                     "tensor '" + tensor.name + "' is empty");
  return std::make_pair(tensor.shape[0], tensor.shape[1]);
}

/// "layer N: " for messages.
std::string layerPrefix(int64_t layer) {
  return "layer " + std::to_string(layer) + ": ";
}

llvm::Error checkStated(llvm::StringRef source, int64_t layer,
                        llvm::StringRef what, std::optional<int64_t> stated,
                        int64_t derived) {
  if (stated && *stated != derived)
    return makeError(source, layerPrefix(layer) + "the weights' shapes give " +
                                 what + " = " + llvm::Twine(derived) +
                                 ", but " + llvm::Twine(*stated) +
                                 " was given");
  return llvm::Error::success();
}

/// Fills the head counts of a layer whose query projection has `queryRows`
/// rows and key projection `keyRows` rows.
llvm::Error deriveHeads(llvm::StringRef source, QKLayer &layer,
                        int64_t queryRows, int64_t keyRows,
                        const HeadLayout &layout) {
  int64_t headDim = 0;
  if (layout.headDim)
    headDim = *layout.headDim;
  else if (layout.numHeads && queryRows % *layout.numHeads == 0)
    headDim = queryRows / *layout.numHeads;
  else if (layout.numKVHeads && keyRows % *layout.numKVHeads == 0)
    headDim = keyRows / *layout.numKVHeads;
  else if (layout.numHeads || layout.numKVHeads)
    return makeError(source,
                     layerPrefix(layer.layer) + "the query projection's " +
                         llvm::Twine(queryRows) + " rows and the key's " +
                         llvm::Twine(keyRows) +
                         " do not split into the given head counts");
  else
    return makeError(source, layerPrefix(layer.layer) +
                                 "the head count is unknown: give --heads "
                                 "or --head-dim, or put the model's "
                                 "config.json next to the checkpoint");
  if (headDim <= 0 || queryRows % headDim != 0 || keyRows % headDim != 0)
    return makeError(source,
                     layerPrefix(layer.layer) + "head dim " +
                         llvm::Twine(headDim) +
                         " does not divide the query projection's " +
                         llvm::Twine(queryRows) + " rows and the key's " +
                         llvm::Twine(keyRows));
  layer.headDim = headDim;
  layer.numHeads = queryRows / headDim;
  layer.numKVHeads = keyRows / headDim;
  if (llvm::Error err = checkStated(source, layer.layer, "query heads",
                                    layout.numHeads, layer.numHeads))
    return err;
  if (llvm::Error err = checkStated(source, layer.layer, "key/value heads",
                                    layout.numKVHeads, layer.numKVHeads))
    return err;
  if (layer.numHeads % layer.numKVHeads != 0)
    return makeError(source, layerPrefix(layer.layer) +
                                 llvm::Twine(layer.numHeads) +
                                 " query heads are not a multiple of " +
                                 llvm::Twine(layer.numKVHeads) +
                                 " key/value heads");
  return llvm::Error::success();
}

/// Records `name` as layer `index`'s tensor in `names`; an error if the
/// layer already has one (two models in one file, or two prefixes).
llvm::Error recordLayer(const SafetensorsFile &file,
                        std::map<int64_t, std::string> &names,
                        llvm::StringRef indexText, llvm::StringRef name) {
  int64_t index = 0;
  if (indexText.getAsInteger(10, index))
    return makeError(file.getSource(), "tensor '" + name +
                                           "': layer index out of range");
  auto [it, inserted] = names.try_emplace(index, name.str());
  if (!inserted)
    return makeError(file.getSource(), "tensors '" + it->second + "' and '" +
                                           name + "' are both layer " +
                                           llvm::Twine(index) +
                                           "'s projection");
  return llvm::Error::success();
}

} // namespace

llvm::StringRef
lpattn::checkpoint::getArchitectureName(Architecture architecture) {
  return architecture == Architecture::GPT2 ? "gpt2" : "llama";
}

llvm::Expected<HeadLayout>
lpattn::checkpoint::readHeadLayoutFromConfig(llvm::StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return makeError(path, "cannot open: " + buffer.getError().message());
  llvm::Expected<llvm::json::Value> config =
      llvm::json::parse((*buffer)->getBuffer());
  if (!config)
    return makeError(path, "not valid JSON: " +
                               llvm::toString(config.takeError()));
  const llvm::json::Object *object = config->getAsObject();
  if (!object)
    return makeError(path, "not a JSON object");
  HeadLayout layout;
  // Hugging Face's names; GPT-2's config says n_head.
  std::pair<const char *, std::optional<int64_t> *> fields[] = {
      {"num_attention_heads", &layout.numHeads},
      {"n_head", &layout.numHeads},
      {"num_key_value_heads", &layout.numKVHeads},
      {"head_dim", &layout.headDim}};
  for (auto [key, field] : fields) {
    const llvm::json::Value *value = object->get(key);
    if (!value || value->kind() == llvm::json::Value::Null)
      continue;
    std::optional<int64_t> number = value->getAsInteger();
    if (!number || *number <= 0)
      return makeError(path, llvm::Twine("\"") + key +
                                 "\" is not a positive integer");
    *field = number;
  }
  return layout;
}

HeadLayout lpattn::checkpoint::mergeHeadLayouts(const HeadLayout &preferred,
                                                const HeadLayout &fallback) {
  HeadLayout merged;
  merged.numHeads = preferred.numHeads ? preferred.numHeads : fallback.numHeads;
  merged.numKVHeads =
      preferred.numKVHeads ? preferred.numKVHeads : fallback.numKVHeads;
  merged.headDim = preferred.headDim ? preferred.headDim : fallback.headDim;
  return merged;
}

llvm::Expected<std::vector<QKLayer>>
lpattn::checkpoint::findQKLayers(const SafetensorsFile &file,
                                 const HeadLayout &layout) {
  llvm::StringRef source = file.getSource();
  llvm::Regex gpt2Name("^(.*\\.)?h\\.([0-9]+)\\.attn\\.c_attn\\.weight$");
  llvm::Regex llamaName(
      "^(.*\\.)?layers\\.([0-9]+)\\.self_attn\\.([qk])_proj\\.weight$");
  std::map<int64_t, std::string> fused, queries, keys;
  for (const SafetensorsTensor &tensor : file.getTensors()) {
    llvm::SmallVector<llvm::StringRef, 4> groups;
    if (gpt2Name.match(tensor.name, &groups)) {
      if (llvm::Error err = recordLayer(file, fused, groups[2], tensor.name))
        return err;
    } else if (llamaName.match(tensor.name, &groups)) {
      if (llvm::Error err = recordLayer(
              file, groups[3] == "q" ? queries : keys, groups[2], tensor.name))
        return err;
    }
  }
  if (fused.empty() && queries.empty() && keys.empty())
    return makeError(source, "no Q/K projections found; recognized names: " +
                                 kRecognizedNames);
  if (!fused.empty() && (!queries.empty() || !keys.empty()))
    return makeError(source, "both GPT-2 (c_attn) and Llama-style "
                             "(q_proj/k_proj) projections; expected one "
                             "architecture");

  std::vector<QKLayer> layers;
  for (const auto &[index, name] : fused) {
    QKLayer layer;
    layer.layer = index;
    layer.architecture = Architecture::GPT2;
    layer.queryTensor = layer.keyTensor = name;
    std::string blockPrefix = llvm::StringRef(name).rsplit("attn.c_attn").first.str();
    if (file.find(blockPrefix + "ln_1.weight"))
      layer.normWeightTensor = blockPrefix + "ln_1.weight";
    if (file.find(blockPrefix + "ln_1.bias"))
      layer.normBiasTensor = blockPrefix + "ln_1.bias";
    auto shape = getMatrixShape(file, *file.find(name));
    if (!shape)
      return shape.takeError();
    auto [modelDim, columns] = *shape;
    if (columns != 3 * modelDim)
      return makeError(source, "tensor '" + name + "' has shape [" +
                                   llvm::Twine(modelDim) + ", " +
                                   llvm::Twine(columns) +
                                   "]; GPT-2's c_attn is [d, 3d]");
    layer.modelDim = modelDim;
    if (llvm::Error err = deriveHeads(source, layer, modelDim, modelDim,
                                      layout))
      return err;
    layers.push_back(std::move(layer));
  }
  for (const auto &[index, name] : keys)
    if (!queries.count(index))
      return makeError(source, "tensor '" + name +
                                   "' has no query projection '" +
                                   llvm::StringRef(name).rsplit("k_proj").first +
                                   "q_proj.weight'");
  for (const auto &[index, name] : queries) {
    auto key = keys.find(index);
    if (key == keys.end())
      return makeError(source, "tensor '" + name +
                                   "' has no key projection '" +
                                   llvm::StringRef(name).rsplit("q_proj").first +
                                   "k_proj.weight'");
    QKLayer layer;
    layer.layer = index;
    layer.architecture = Architecture::Llama;
    layer.queryTensor = name;
    layer.keyTensor = key->second;
    std::string blockPrefix = llvm::StringRef(name).rsplit("self_attn.").first.str();
    if (file.find(blockPrefix + "input_layernorm.weight"))
      layer.normWeightTensor = blockPrefix + "input_layernorm.weight";
    auto queryShape = getMatrixShape(file, *file.find(name));
    if (!queryShape)
      return queryShape.takeError();
    auto keyShape = getMatrixShape(file, *file.find(key->second));
    if (!keyShape)
      return keyShape.takeError();
    if (queryShape->second != keyShape->second)
      return makeError(source, layerPrefix(index) + "the query projection "
                                   "reads d_model = " +
                                   llvm::Twine(queryShape->second) +
                                   ", the key projection " +
                                   llvm::Twine(keyShape->second));
    layer.modelDim = queryShape->second;
    if (llvm::Error err = deriveHeads(source, layer, queryShape->first,
                                      keyShape->first, layout))
      return err;
    layers.push_back(std::move(layer));
  }
  return layers;
}

llvm::Expected<QKWeights>
lpattn::checkpoint::loadQKWeights(const SafetensorsFile &file,
                                  const QKLayer &layer) {
  QKWeights weights;
  if (layer.architecture == Architecture::Llama) {
    auto query = file.readFloats(layer.queryTensor);
    if (!query)
      return query.takeError();
    auto key = file.readFloats(layer.keyTensor);
    if (!key)
      return key.takeError();
    weights.query = std::move(*query);
    weights.key = std::move(*key);
    return weights;
  }
  // GPT-2's Conv1D weight W [d, 3d] computes x W: the query projection is
  // the transpose of columns [0, d), the key's of columns [d, 2d).
  auto fused = file.readFloats(layer.queryTensor);
  if (!fused)
    return fused.takeError();
  int64_t d = layer.modelDim;
  weights.query.resize(d * d);
  weights.key.resize(d * d);
  for (int64_t in = 0; in < d; ++in)
    for (int64_t out = 0; out < d; ++out) {
      weights.query[out * d + in] = (*fused)[in * 3 * d + out];
      weights.key[out * d + in] = (*fused)[in * 3 * d + d + out];
    }
  return weights;
}
