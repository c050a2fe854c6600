//===- Descriptor.h - the launch descriptor NAME.json, in memory -*- C++ -*-===//
//
// A compiled attention ships as NAME.cubin (+ NAME.ptx) and NAME.json, the
// launch descriptor documented in docs/launch-descriptor.md (format version
// 1). This header holds its in-memory form, its reader (every malformed,
// missing or mismatching field is one error naming the field) and the checks
// that need no driver: the parameter list against KernelABI.h, the tensor
// maps against the TMA rules, the cubin's ELF header, the shared memory
// against a device limit and the target arch against a compute capability.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_RT_DESCRIPTOR_H
#define LPATTN_RT_DESCRIPTOR_H

#include "lpattn/Numerics/Enums.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lpattn::rt {

/// The rows of the P dump of a debug artifact (signature.debug_p): one
/// consumer warpgroup's query rows.
constexpr int64_t kDebugPRows = 64;

/// The descriptor format this runtime reads.
constexpr int64_t kDescriptorVersion = 1;
/// The value of the "format" member, so that a stray JSON file is refused.
constexpr std::string_view kDescriptorFormat = "lpattn-launch-descriptor";

/// How a parameter is passed to the kernel.
enum class ParamKind {
  Pointer,   ///< a CUdeviceptr to the tensor's first element
  TensorMap, ///< a CUtensorMap (128 bytes, by value, __grid_constant__)
  F32,       ///< a float scalar
};

/// One kernel parameter, in launch order.
struct Param {
  /// "q", "k", "v", "mask", "q_ds", "k_ds", "v_ds", "stats" (KernelABI.h),
  /// "o", the result, or in a debug artifact (signature.debug_p) the P dump
  /// "p_scaled" and "p_codes" after it.
  std::string role;
  ParamKind kind = ParamKind::Pointer;
  /// Element format, for tensors (pointer or tensor map; per-head descales
  /// are f32); "stats" is i64.
  std::optional<FloatFormat> dtype;
  bool isI64 = false;
  /// Shape and strides (in elements), outermost first; empty for scalars
  /// ([B, Hkv] for per-head descales).
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;
};

/// One tensor map the runtime encodes before the launch.
struct TensorMapSpec {
  /// The role of the parameter it describes (a tensor_map parameter).
  std::string tensor;
  /// CU_TENSOR_MAP_DATA_TYPE_* value; UINT8 (0) for FP8.
  int dataType = 0;
  std::string dataTypeName;
  /// Box (TMA tile) sizes in elements, outermost first, same rank as the
  /// tensor's shape.
  std::vector<uint32_t> box;
  /// CU_TENSOR_MAP_SWIZZLE_* / L2_PROMOTION_* values.
  int swizzle = 0;
  int l2Promotion = 0;
};

/// The precision policy and safeguards the kernel was compiled with
/// (lpattn.attention's attributes, spelled as the IR spells them).
struct CompiledNumerics {
  FloatFormat qk = FloatFormat::F8E4M3FN, score = FloatFormat::F32,
              p = FloatFormat::F8E4M3FN, v = FloatFormat::F8E4M3FN,
              acc = FloatFormat::F32, out = FloatFormat::BF16;
  OverflowMode overflow = OverflowMode::SatFinite;
  double scale = 0, pScale = 1;
  KVOrder kvOrder = KVOrder::Forward;
  SoftmaxVariant softmax = SoftmaxVariant::Standard;
  double beta = 0, tol = 0;
  bool causal = false;
  int64_t tileQ = 0, tileKV = 0;
};

/// The whole descriptor.
struct LaunchDescriptor {
  int64_t version = 0;
  std::string kernel;
  /// The cubin and PTX paths as written, and the cubin resolved against the
  /// descriptor's directory.
  std::string cubin, ptx, cubinPath;
  /// "sm_90a" and its compute capability (90) and arch-specific flag.
  std::string arch;
  int archMajor = 0, archMinor = 0;
  bool archSpecific = false;
  std::array<uint32_t, 3> grid{1, 1, 1}, block{1, 1, 1}, cluster{1, 1, 1};
  uint32_t dynamicSharedBytes = 0;
  bool hasMask = false, hasDescales = false, countsCollapse = false;
  /// The descales are pointers to f32 [B, Hkv] (per batch and KV head)
  /// rather than f32 scalars (read from the params' kind).
  bool perHeadDescales = false;
  /// A debug artifact (signature.debug_p): after "o" the kernel takes
  /// "p_scaled" (f32 [64, Bc]) and "p_codes" (policy.p [64, Bc]), where it
  /// writes one P tile before and after the FP8 cast. Not part of the
  /// attention's kernel ABI (KernelABI.h): only these artifacts have them.
  bool debugP = false;
  std::vector<Param> params;
  std::vector<TensorMapSpec> tensorMaps;
  CompiledNumerics numerics;

  /// The parameter with this role, or null.
  const Param *findParam(std::string_view role) const;
};

/// Reads and validates a descriptor from JSON text. `baseDir` resolves the
/// cubin path (the descriptor's directory). On failure returns false with
/// one message in `error` ("descriptor: ...").
bool parseDescriptor(std::string_view text, const std::string &baseDir,
                     LaunchDescriptor &result, std::string &error);

/// Reads the file at `path` (bounded size), then parseDescriptor.
bool loadDescriptorFile(const std::string &path, LaunchDescriptor &result,
                        std::string &error);

/// Reads the cubin and checks that it is a 64-bit ELF for CUDA (EM_CUDA,
/// 190): a missing, empty, truncated or non-ELF file is refused before the
/// driver sees it.
bool readCubin(const std::string &path, std::vector<char> &bytes,
               std::string &error);
bool checkCubinImage(const std::vector<char> &bytes, const std::string &path,
                     std::string &error);

/// The SM version a cubin was built for (90 for sm_90 and sm_90a), read
/// from its ELF header where the layout is known: OSABI 0x41 (CUDA) with ABI
/// version 8, as CUDA 13's nvcc and ptxas write, keeps it in bits 8..15 of
/// e_flags. Other header versions give nullopt (not checked).
std::optional<int> cubinSmVersion(const std::vector<char> &bytes);

/// A cubin whose SM version (where readable) differs from the descriptor's
/// target is a mismatching artifact.
bool checkCubinArch(const LaunchDescriptor &desc,
                    const std::vector<char> &bytes, std::string &error);

/// The descriptor's dynamic shared memory against a device's opt-in limit.
bool checkSharedMemory(const LaunchDescriptor &desc, int64_t maxOptinBytes,
                       std::string &error);

/// The descriptor's target arch against a device's compute capability:
/// sm_XYa code runs only on X.Y; sm_XY code on X.Z with Z >= Y.
bool checkArch(const LaunchDescriptor &desc, int major, int minor,
               std::string &error);

/// Parses "sm_90a" / "sm_89": false for anything else.
bool parseArch(std::string_view arch, int &major, int &minor,
               bool &archSpecific);

/// Bytes per element of a format (1 for FP8).
unsigned formatBytes(FloatFormat format);

} // namespace lpattn::rt

#endif // LPATTN_RT_DESCRIPTOR_H
