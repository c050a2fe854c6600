//===- DescriptorTest.cpp - launch descriptors and artifacts, no driver ----===//
//
// The example descriptor (runtime/examples/attention_fp8.json) and edits of
// it, each breaking one thing: every one must give one error naming the
// field, never a crash. Also the cubin, shared-memory and arch checks.
//
//===----------------------------------------------------------------------===//

#include "Descriptor.h"
#include "RuntimeTestUtil.h"
#include "lpattn-rt/Runtime.h"

#include "gtest/gtest.h"

using namespace lpattn;
using namespace lpattn::rt;
using namespace lpattn::rt::test;

namespace {
std::string descriptorError(const std::string &text) {
  LaunchDescriptor d;
  std::string error;
  EXPECT_FALSE(parseDescriptor(text, "", d, error));
  EXPECT_FALSE(error.empty());
  return error;
}

/// The error for the example with `from` replaced by `to`.
std::string editError(const std::string &from, const std::string &to) {
  std::string text = exampleDescriptor();
  std::string edited = edit(text, from, to);
  EXPECT_NE(edited.rfind("EDIT NOT FOUND", 0), 0u) << from;
  return descriptorError(edited);
}

#define EXPECT_CONTAINS(text, part)                                            \
  EXPECT_NE(std::string(text).find(part), std::string::npos)                   \
      << "'" << (text) << "' lacks '" << (part) << "'"

TEST(RuntimeDescriptor, ExampleIsValid) {
  LaunchDescriptor d;
  std::string error;
  ASSERT_TRUE(parseDescriptor(exampleDescriptor(), "/art", d, error)) << error;
  EXPECT_EQ(d.version, 1);
  EXPECT_EQ(d.kernel, "lpattn_attention_fp8");
  EXPECT_EQ(d.cubinPath, "/art/attention_fp8.cubin");
  EXPECT_EQ(d.arch, "sm_90a");
  EXPECT_EQ(d.archMajor, 9);
  EXPECT_EQ(d.archMinor, 0);
  EXPECT_TRUE(d.archSpecific);
  EXPECT_EQ(d.grid, (std::array<uint32_t, 3>{1, 8, 1}));
  EXPECT_EQ(d.block, (std::array<uint32_t, 3>{384, 1, 1}));
  EXPECT_EQ(d.dynamicSharedBytes, 98304u);
  ASSERT_EQ(d.params.size(), 7u);
  const char *roles[] = {"q", "k", "v", "q_ds", "k_ds", "v_ds", "o"};
  for (size_t i = 0; i < 7; ++i)
    EXPECT_EQ(d.params[i].role, roles[i]);
  EXPECT_EQ(d.params[0].kind, ParamKind::TensorMap);
  EXPECT_EQ(d.params[3].kind, ParamKind::F32);
  EXPECT_FALSE(d.perHeadDescales);
  EXPECT_EQ(d.params[6].dtype, FloatFormat::BF16);
  ASSERT_EQ(d.tensorMaps.size(), 3u);
  EXPECT_EQ(d.tensorMaps[0].dataType, 0); // CU_TENSOR_MAP_DATA_TYPE_UINT8
  EXPECT_EQ(d.tensorMaps[0].swizzle, 2);  // CU_TENSOR_MAP_SWIZZLE_64B
  EXPECT_EQ(d.tensorMaps[1].box, (std::vector<uint32_t>{1, 1, 64, 64}));
  EXPECT_EQ(d.numerics.pScale, 256.0);
  EXPECT_EQ(d.numerics.kvOrder, KVOrder::Reverse);
  EXPECT_EQ(d.numerics.softmax, SoftmaxVariant::Standard);
  EXPECT_EQ(d.numerics.p, FloatFormat::F8E4M3FN);
  EXPECT_EQ(d.numerics.tileQ, 128);
}

TEST(RuntimeDescriptor, MissingFields) {
  EXPECT_EQ(editError("\"kernel\": \"lpattn_attention_fp8\",", ""),
            "descriptor: kernel: missing");
  EXPECT_EQ(editError("\"dynamic_shared_memory\": 98304,", ""),
            "descriptor: dynamic_shared_memory: missing");
  EXPECT_EQ(editError("\"overflow\": \"satfinite\"", "\"x\": 1"),
            "descriptor: policy.x: unknown member (format version 1)");
  EXPECT_EQ(editError("\"format\": \"lpattn-launch-descriptor\",", ""),
            "descriptor: format: missing");
  EXPECT_EQ(editError("\"causal\": false", "\"casual\": false"),
            "descriptor: safeguards.casual: unknown member (format version 1)");
}

TEST(RuntimeDescriptor, WrongFormatOrVersion) {
  EXPECT_EQ(editError("\"version\": 1", "\"version\": 2"),
            "descriptor: version: unsupported version 2 (this runtime reads "
            "version 1)");
  EXPECT_EQ(editError("\"version\": 1", "\"version\": 1.5"),
            "descriptor: version: expected an integer in [0, 1073741824], got "
            "1.5");
  EXPECT_EQ(editError("lpattn-launch-descriptor", "triton"),
            "descriptor: format: expected \"lpattn-launch-descriptor\", got "
            "\"triton\"");
  EXPECT_EQ(descriptorError("[1, 2]"),
            "descriptor: <root>: expected an object, got an array");
}

TEST(RuntimeDescriptor, WrongTypes) {
  EXPECT_EQ(editError("\"grid\": [1, 8, 1]", "\"grid\": \"1,8,1\""),
            "descriptor: grid: expected an array, got a string");
  EXPECT_EQ(editError("\"grid\": [1, 8, 1]", "\"grid\": [1, 8]"),
            "descriptor: grid: expected 3 entries, got 2");
  EXPECT_EQ(editError("\"grid\": [1, 8, 1]", "\"grid\": [1, -8, 1]"),
            "descriptor: grid[1]: expected an integer in [1, 2147483647], got "
            "-8");
  EXPECT_EQ(editError("\"mask\": false", "\"mask\": 0"),
            "descriptor: signature.mask: expected a boolean, got a number");
  EXPECT_EQ(editError("\"p_scale\": 256", "\"p_scale\": \"256\""),
            "descriptor: safeguards.p_scale: expected a number, got a string");
  EXPECT_EQ(editError("\"arch\": \"sm_90a\"", "\"arch\": \"hopper\""),
            "descriptor: arch: \"hopper\" is not a CUDA target (expected "
            "sm_<cc> or sm_<cc>a, e.g. sm_90a)");
  EXPECT_EQ(editError("\"kernel\": \"lpattn_attention_fp8\"",
                      "\"kernel\": \"a b\""),
            "descriptor: kernel: \"a b\" is not a symbol name (letters, "
            "digits, '_', '$', '.')");
}

TEST(RuntimeDescriptor, MalformedJSON) {
  std::string text = exampleDescriptor();
  std::string error = descriptorError(text.substr(0, text.size() / 2));
  EXPECT_EQ(error.rfind("descriptor: malformed JSON: byte ", 0), 0u) << error;
  EXPECT_CONTAINS(descriptorError(std::string(100000, '[')),
                  "nesting deeper than 64 levels");
}

TEST(RuntimeDescriptor, ParametersFollowTheKernelABI) {
  // The signature says no descales: KernelABI.h then has q, k, v and o.
  EXPECT_EQ(editError("\"descales\": true", "\"descales\": false"),
            "descriptor: params: 7 entries, but the signature (mask = false, "
            "descales = false, stats = false) has 4: q, k, v, o");
  EXPECT_EQ(editError("\"mask\": false", "\"mask\": true"),
            "descriptor: params: 7 entries, but the signature (mask = true, "
            "descales = true, stats = false) has 8: q, k, v, mask, q_ds, "
            "k_ds, v_ds, o");
  EXPECT_EQ(editError("{\"role\": \"q_ds\", \"kind\": \"f32\"}",
                      "{\"role\": \"k_ds\", \"kind\": \"f32\"}"),
            "descriptor: params[3].role: \"k_ds\", but KernelABI.h puts "
            "\"q_ds\" here (order: q, k, v, q_ds, k_ds, v_ds, o)");
  // A pointer descale is a per-head one: it needs its dtype, shape, strides.
  EXPECT_EQ(editError("{\"role\": \"q_ds\", \"kind\": \"f32\"}",
                      "{\"role\": \"q_ds\", \"kind\": \"pointer\"}"),
            "descriptor: params[3].dtype: missing");
  EXPECT_EQ(editError("{\"role\": \"q_ds\", \"kind\": \"f32\"}",
                      "{\"role\": \"q_ds\", \"kind\": \"tensor_map\"}"),
            "descriptor: params[3].kind: \"q_ds\" must be an f32 scalar or a "
            "pointer (to f32 [B, Hkv], per batch and KV head), got tensor_map");
  EXPECT_EQ(editError("{\"role\": \"o\", \"kind\": \"pointer\"",
                      "{\"role\": \"o\", \"kind\": \"f32\""),
            "descriptor: params[6].kind: \"o\" must be a pointer or a tensor "
            "map, got f32");
  EXPECT_EQ(editError("\"kind\": \"pointer\", \"dtype\": \"bf16\"",
                      "\"kind\": \"pointer\", \"dtype\": \"f16\""),
            "descriptor: params[6].dtype: \"f16\", but the policy makes o "
            "bf16");
  EXPECT_EQ(editError("\"shape\": [1, 2, 128, 64]", "\"shape\": [1, 3, 128, 64]"),
            "descriptor: params: v's heads and keys differ from k's");
  EXPECT_EQ(editError("\"shape\": [1, 8, 128, 64]", "\"shape\": [1, 8, 128]"),
            "descriptor: params[0].shape: expected 4 entries, got 3");
}

// Per-(batch, KV head) descales, FlashAttention-3's form: three pointers to
// f32 [B, Hkv]. The example (B = 1, Hkv = 2) with its scalars replaced.
static const char *const kScalarDescales =
    "{\"role\": \"q_ds\", \"kind\": \"f32\"},\n"
    "    {\"role\": \"k_ds\", \"kind\": \"f32\"},\n"
    "    {\"role\": \"v_ds\", \"kind\": \"f32\"},";

static std::string perHeadDescales(const std::string &q = "q_ds",
                                   const std::string &shape = "[1, 2]",
                                   const std::string &dtype = "f32") {
  std::string text;
  for (const char *role : {"q_ds", "k_ds", "v_ds"})
    text += std::string("{\"role\": \"") + role +
            "\", \"kind\": \"pointer\", \"dtype\": \"" +
            (role == q ? dtype : "f32") + "\", \"shape\": " +
            (role == q ? shape : "[1, 2]") + ", \"strides\": [2, 1]},\n";
  return text;
}

TEST(RuntimeDescriptor, PerHeadDescales) {
  LaunchDescriptor d;
  std::string error;
  std::string text =
      edit(exampleDescriptor(), kScalarDescales, perHeadDescales());
  ASSERT_TRUE(parseDescriptor(text, "/art", d, error)) << error;
  EXPECT_EQ(d.version, 1);
  EXPECT_TRUE(d.hasDescales);
  EXPECT_TRUE(d.perHeadDescales);
  for (size_t i = 3; i < 6; ++i) {
    EXPECT_EQ(d.params[i].kind, ParamKind::Pointer);
    EXPECT_EQ(d.params[i].dtype, FloatFormat::F32);
    EXPECT_EQ(d.params[i].shape, (std::vector<int64_t>{1, 2}));
    EXPECT_EQ(d.params[i].strides, (std::vector<int64_t>{2, 1}));
  }

  // One form for all three.
  EXPECT_EQ(descriptorError(edit(exampleDescriptor(),
                                 "{\"role\": \"q_ds\", \"kind\": \"f32\"},",
                                 perHeadDescales().substr(
                                     0, perHeadDescales().find('\n')))),
            "descriptor: params[4].kind: \"k_ds\" is f32, but q_ds is "
            "pointer: the descales are all f32 scalars or all pointers to f32 "
            "[B, Hkv]");
  // [B, Hkv], not [B, Hq]; rank 2; f32.
  EXPECT_EQ(descriptorError(edit(exampleDescriptor(), kScalarDescales,
                                 perHeadDescales("k_ds", "[1, 8]"))),
            "descriptor: params: k_ds must be [B, Hkv] = [1, 2] (per batch and "
            "KV head), got [1, 8]");
  EXPECT_EQ(descriptorError(edit(exampleDescriptor(), kScalarDescales,
                                 perHeadDescales("v_ds", "[2]"))),
            "descriptor: params[5].shape: expected 2 entries, got 1");
  EXPECT_EQ(descriptorError(edit(exampleDescriptor(), kScalarDescales,
                                 perHeadDescales("q_ds", "[1, 2]", "bf16"))),
            "descriptor: params[3].dtype: \"bf16\", but the policy makes q_ds "
            "f32");
}

// A debug artifact (signature.debug_p, lpattn-compile --dump-p): after o,
// p_scaled (f32) and p_codes (policy.p), both [64, Bc] row-major. The
// example has tiles [128, 64] and p = f8E4M3FN.
static const char *const kOParam =
    "\"shape\": [1, 8, 128, 64], \"strides\": [65536, 8192, 64, 1]}\n  ]";

static std::string pDumpParams(const std::string &first = "p_scaled",
                               const std::string &second = "p_codes",
                               const std::string &codesDtype = "f8E4M3FN",
                               const std::string &shape = "[64, 64]",
                               const std::string &kind = "pointer") {
  return std::string("\"shape\": [1, 8, 128, 64], \"strides\": [65536, 8192, "
                     "64, 1]},\n") +
         "    {\"role\": \"" + first + "\", \"kind\": \"" + kind +
         "\", \"dtype\": \"f32\", \"shape\": " + shape +
         ", \"strides\": [64, 1]},\n"
         "    {\"role\": \"" + second + "\", \"kind\": \"pointer\", "
         "\"dtype\": \"" + codesDtype + "\", \"shape\": [64, 64], "
         "\"strides\": [64, 1]}\n  ]";
}

static std::string debugDescriptor(const std::string &params = pDumpParams()) {
  return edit(edit(exampleDescriptor(), "\"stats\": false}",
                   "\"stats\": false, \"debug_p\": true}"),
              kOParam, params);
}

TEST(RuntimeDescriptor, DebugPDump) {
  LaunchDescriptor d;
  std::string error;
  ASSERT_TRUE(parseDescriptor(debugDescriptor(), "/art", d, error)) << error;
  EXPECT_EQ(d.version, 1);
  EXPECT_TRUE(d.debugP);
  ASSERT_EQ(d.params.size(), 9u);
  EXPECT_EQ(d.params[6].role, "o");
  EXPECT_EQ(d.params[7].role, "p_scaled");
  EXPECT_EQ(d.params[7].kind, ParamKind::Pointer);
  EXPECT_EQ(d.params[7].dtype, FloatFormat::F32);
  EXPECT_EQ(d.params[7].shape, (std::vector<int64_t>{64, 64}));
  EXPECT_EQ(d.params[7].strides, (std::vector<int64_t>{64, 1}));
  EXPECT_EQ(d.params[8].role, "p_codes");
  EXPECT_EQ(d.params[8].dtype, FloatFormat::F8E4M3FN);

  // Files without the member read as before; "debug_p": false is the same.
  ASSERT_TRUE(parseDescriptor(exampleDescriptor(), "", d, error)) << error;
  EXPECT_FALSE(d.debugP);
  EXPECT_EQ(d.params.size(), 7u);
  ASSERT_TRUE(parseDescriptor(edit(exampleDescriptor(), "\"stats\": false}",
                                   "\"stats\": false, \"debug_p\": false}"),
                              "", d, error))
      << error;
  EXPECT_FALSE(d.debugP);
  EXPECT_EQ(d.params.size(), 7u);
  // The dump parameters without the member are refused (count), and so is
  // the member without them.
  EXPECT_EQ(descriptorError(edit(exampleDescriptor(), kOParam, pDumpParams())),
            "descriptor: params: 9 entries, but the signature (mask = false, "
            "descales = true, stats = false) has 7: q, k, v, q_ds, k_ds, "
            "v_ds, o");
  EXPECT_EQ(descriptorError(debugDescriptor(std::string(kOParam))),
            "descriptor: params: 7 entries, but the signature (mask = false, "
            "descales = true, stats = false, debug_p = true) has 9: q, k, v, "
            "q_ds, k_ds, v_ds, o, p_scaled, p_codes");
  EXPECT_EQ(descriptorError(edit(exampleDescriptor(), "\"stats\": false}",
                                 "\"stats\": false, \"debug_p\": 1}")),
            "descriptor: signature.debug_p: expected a boolean, got a number");
  // Order, dtypes, kind, shape.
  EXPECT_EQ(descriptorError(debugDescriptor(pDumpParams("p_codes",
                                                        "p_scaled"))),
            "descriptor: params[7].role: \"p_codes\", but signature.debug_p "
            "puts \"p_scaled\" here (order: q, k, v, q_ds, k_ds, v_ds, o, "
            "p_scaled, p_codes)");
  EXPECT_EQ(descriptorError(debugDescriptor(
                pDumpParams("p_scaled", "p_codes", "f8E5M2"))),
            "descriptor: params[8].dtype: \"f8E5M2\", but the policy makes "
            "p_codes f8E4M3FN");
  EXPECT_EQ(descriptorError(debugDescriptor(
                pDumpParams("p_scaled", "p_codes", "f32"))),
            "descriptor: params[8].dtype: \"f32\", but the policy makes "
            "p_codes f8E4M3FN");
  EXPECT_EQ(descriptorError(debugDescriptor(pDumpParams(
                "p_scaled", "p_codes", "f8E4M3FN", "[64, 64]", "tensor_map"))),
            "descriptor: params[7].kind: \"p_scaled\" must be a pointer, got "
            "tensor_map");
  EXPECT_EQ(descriptorError(debugDescriptor(
                pDumpParams("p_scaled", "p_codes", "f8E4M3FN", "[128, 64]"))),
            "descriptor: params[7].shape: \"p_scaled\" must be [64, Bc] = "
            "[64, 64] (Bc = tiles[1]), got [128, 64]");
  EXPECT_EQ(descriptorError(edit(debugDescriptor(), "\"strides\": [64, 1]}\n",
                                 "\"strides\": [1, 64]}\n")),
            "descriptor: params[8].strides: \"p_codes\" must be row-major "
            "[64, 1], got [1, 64]");
  EXPECT_EQ(descriptorError(edit(debugDescriptor(), ",\n  \"tiles\": [128, 64]",
                                 "")),
            "descriptor: tiles: missing: a debug_p artifact's P dump is [64, "
            "Bc], Bc = tiles[1]");
}

TEST(RuntimeDescriptor, TensorMapsFollowTheTMARules) {
  EXPECT_EQ(editError("\"element_type\": \"UINT8\"",
                      "\"element_type\": \"FLOAT16\""),
            "descriptor: tensor_maps[0].element_type: \"FLOAT16\", but a "
            "f8E4M3FN tensor is encoded as UINT8");
  EXPECT_EQ(editError("\"box\": [1, 1, 128, 64]", "\"box\": [1, 1, 128, 8]"),
            "descriptor: tensor_maps[0].box: the inner box dim spans 8 bytes; "
            "TMA needs a multiple of 16");
  EXPECT_EQ(editError("\"box\": [1, 1, 128, 64]", "\"box\": [1, 1, 256, 64]"),
            "descriptor: tensor_maps[0].box[2]: 256 exceeds the tensor's dim "
            "128");
  EXPECT_EQ(editError("\"swizzle\": \"64B\"", "\"swizzle\": \"32B\""),
            "descriptor: tensor_maps[0].box: the inner box dim spans 64 bytes, "
            "more than the 32B swizzle span");
  EXPECT_EQ(editError("{\"tensor\": \"k\"", "{\"tensor\": \"q\""),
            "descriptor: tensor_maps[1].tensor: a second tensor map for \"q\"");
  EXPECT_EQ(editError("{\"tensor\": \"q\"", "{\"tensor\": \"o\""),
            "descriptor: tensor_maps[0].tensor: \"o\" is not a tensor_map "
            "parameter");
  EXPECT_EQ(editError("\"strides\": [65536, 8192, 64, 1]},",
                      "\"strides\": [65536, 8192, 1, 128]},"),
            "descriptor: params of q: a tensor map needs a contiguous "
            "innermost dim (stride 1), got stride 128");
}

TEST(RuntimeDescriptor, LaunchShapeLimits) {
  EXPECT_EQ(editError("\"block\": [384, 1, 1]", "\"block\": [512, 4, 1]"),
            "descriptor: block: 2048 threads per block exceed the CUDA limit "
            "1024");
  EXPECT_EQ(editError("\"cluster\": [1, 1, 1]", "\"cluster\": [1, 3, 1]"),
            "descriptor: cluster[1]: 3 does not divide grid[1] = 8");
  EXPECT_EQ(editError("\"cluster\": [1, 1, 1]", "\"cluster\": [1, 16, 1]"),
            "descriptor: cluster: 16 blocks per cluster exceed the portable "
            "limit 8");
  EXPECT_EQ(editError("\"dynamic_shared_memory\": 98304",
                      "\"dynamic_shared_memory\": 1e12"),
            "descriptor: dynamic_shared_memory: expected an integer in [0, "
            "4294967295], got 1000000000000");
  EXPECT_EQ(editError("\"p_scale\": 256", "\"p_scale\": 448"),
            "descriptor: safeguards.p_scale: 448 is not a power of two >= 1");
}

TEST(RuntimeDescriptor, EveryByteFlipIsHandled) {
  // Replacing any one byte by a quote, a brace or a digit either still
  // parses or gives one "descriptor: ..." error; never a crash (run under
  // scripts/test-sanitizers.sh too).
  std::string text = exampleDescriptor();
  size_t errors = 0;
  for (size_t i = 0; i < text.size(); ++i)
    for (char c : {'"', '}', '9', '\0'}) {
      std::string mutated = text;
      mutated[i] = c;
      LaunchDescriptor d;
      std::string error;
      if (!parseDescriptor(mutated, "", d, error)) {
        ++errors;
        EXPECT_EQ(error.rfind("descriptor: ", 0), 0u) << error;
      }
    }
  EXPECT_GT(errors, text.size());
}

TEST(RuntimeDescriptor, SharedMemoryAgainstADeviceLimit) {
  LaunchDescriptor d;
  std::string error;
  ASSERT_TRUE(parseDescriptor(exampleDescriptor(), "", d, error)) << error;
  EXPECT_TRUE(checkSharedMemory(d, 232448, error)) << error; // H100
  EXPECT_TRUE(checkSharedMemory(d, 98304, error)) << error;
  EXPECT_FALSE(checkSharedMemory(d, 98303, error));
  EXPECT_EQ(error, "kernel lpattn_attention_fp8 needs 98304 bytes of dynamic "
                   "shared memory, more than the device's opt-in maximum of "
                   "98303 bytes per block");
}

TEST(RuntimeDescriptor, ArchAgainstAComputeCapability) {
  LaunchDescriptor d;
  std::string error;
  ASSERT_TRUE(parseDescriptor(exampleDescriptor(), "", d, error)) << error;
  EXPECT_TRUE(checkArch(d, 9, 0, error)) << error;
  EXPECT_FALSE(checkArch(d, 8, 9, error));
  EXPECT_EQ(error, "kernel lpattn_attention_fp8 was compiled for sm_90a, which "
                   "does not run on a device of compute capability 8.9 "
                   "(arch-specific 'a' code runs only on 9.0)");
  EXPECT_FALSE(checkArch(d, 10, 0, error));
  ASSERT_TRUE(parseDescriptor(edit(exampleDescriptor(), "sm_90a", "sm_86"), "",
                              d, error))
      << error;
  EXPECT_TRUE(checkArch(d, 8, 9, error)) << error;
  EXPECT_FALSE(checkArch(d, 8, 0, error));
  EXPECT_FALSE(checkArch(d, 9, 0, error));
  int major, minor;
  bool specific;
  EXPECT_TRUE(parseArch("sm_100a", major, minor, specific));
  EXPECT_EQ(major, 10);
  EXPECT_TRUE(specific);
  for (const char *bad : {"sm_", "sm_9", "sm_9x", "compute_90", "sm_1000", ""})
    EXPECT_FALSE(parseArch(bad, major, minor, specific)) << bad;
}

TEST(RuntimeDescriptor, CubinChecks) {
  ScratchDir dir;
  std::vector<char> bytes;
  std::string error;
  EXPECT_TRUE(readCubin(dir.write("ok.cubin", fakeCubin()), bytes, error))
      << error;
  std::string empty = dir.write("empty.cubin", std::string());
  EXPECT_FALSE(readCubin(empty, bytes, error));
  EXPECT_EQ(error, "cubin: " + empty + " is empty");
  std::string text = dir.write("text.cubin", std::string(100, 'x'));
  EXPECT_FALSE(readCubin(text, bytes, error));
  EXPECT_EQ(error, "cubin: " + text + " is not an ELF file (100 bytes, no ELF "
                   "header): a corrupt or truncated artifact");
  std::vector<char> truncated = fakeCubin();
  truncated.resize(20);
  std::string cut = dir.write("cut.cubin", truncated);
  EXPECT_FALSE(readCubin(cut, bytes, error));
  EXPECT_CONTAINS(error, "is not an ELF file (20 bytes");
  std::string x86 = dir.write("x86.cubin", fakeCubin(62));
  EXPECT_FALSE(readCubin(x86, bytes, error));
  EXPECT_EQ(error, "cubin: " + x86 + " is an ELF file for machine 62, not "
                   "CUDA (EM_CUDA = 190)");
  EXPECT_FALSE(readCubin(dir.path + "/absent.cubin", bytes, error));
  EXPECT_CONTAINS(error, "cannot open " + dir.path + "/absent.cubin: No such "
                         "file or directory");
}

TEST(RuntimeDescriptor, CubinArchAgainstTheDescriptor) {
  LaunchDescriptor d;
  std::string error;
  ASSERT_TRUE(parseDescriptor(exampleDescriptor(), "/a", d, error)) << error;
  EXPECT_EQ(cubinSmVersion(realCubinHeaderSm90a()), 90);
  EXPECT_TRUE(checkCubinArch(d, realCubinHeaderSm90a(), error)) << error;
  EXPECT_FALSE(checkCubinArch(d, fakeCubin(190, 2, 89), error));
  EXPECT_EQ(error, "cubin: /a/attention_fp8.cubin was built for sm_89, but "
                   "the descriptor's arch is sm_90a (mismatching artifact)");
  // An unknown header version is not checked (nothing to compare).
  std::vector<char> old = fakeCubin(190, 2, 89);
  old[8] = 7;
  EXPECT_EQ(cubinSmVersion(old), std::nullopt);
  EXPECT_TRUE(checkCubinArch(d, old, error)) << error;
  // Through the C API.
  ScratchDir dir;
  std::string path = dir.artifact(exampleDescriptor(), fakeCubin(190, 2, 89));
  EXPECT_EQ(lpattnRtCheckArtifact(path.c_str()), LPATTN_RT_ERROR_INVALID_CUBIN);
  EXPECT_CONTAINS(lpattnRtGetLastError(), "was built for sm_89");
}

TEST(RuntimeDescriptor, CheckArtifactThroughTheCAPI) {
  ScratchDir dir;
  std::string good = dir.artifact(exampleDescriptor());
  EXPECT_EQ(lpattnRtCheckArtifact(good.c_str()), LPATTN_RT_SUCCESS)
      << lpattnRtGetLastError();
  EXPECT_STREQ(lpattnRtGetLastError(), "");

  std::string corrupt = dir.artifact(exampleDescriptor(), {'n', 'o', 'p', 'e'});
  EXPECT_EQ(lpattnRtCheckArtifact(corrupt.c_str()),
            LPATTN_RT_ERROR_INVALID_CUBIN);
  EXPECT_CONTAINS(lpattnRtGetLastError(), "attention_fp8.cubin is not an ELF");

  std::string bad = dir.artifact(edit(exampleDescriptor(), "\"version\": 1",
                                      "\"version\": 7"));
  EXPECT_EQ(lpattnRtCheckArtifact(bad.c_str()),
            LPATTN_RT_ERROR_INVALID_DESCRIPTOR);
  EXPECT_EQ(std::string(lpattnRtGetLastError()),
            bad + ": descriptor: version: unsupported version 7 (this runtime "
                  "reads version 1)");

  EXPECT_EQ(lpattnRtCheckArtifact((dir.path + "/none.json").c_str()),
            LPATTN_RT_ERROR_INVALID_DESCRIPTOR);
  EXPECT_CONTAINS(lpattnRtGetLastError(), "cannot open");
  EXPECT_EQ(lpattnRtCheckArtifact(nullptr), LPATTN_RT_ERROR_INVALID_ARGUMENT);
}
} // namespace
