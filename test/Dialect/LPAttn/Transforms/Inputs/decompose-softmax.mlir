// Upstream's decomposition of linalg.softmax into linalg.generic ops (max,
// sub + exp, sum, div), so that the reference run of a linalg attention can
// lower it to loops: convert-linalg-to-loops does not take linalg.softmax.
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %softmax = transform.structured.match ops{["linalg.softmax"]} in %root : (!transform.any_op) -> !transform.any_op
    %decomposed = transform.structured.decompose_interface %softmax : (!transform.any_op) -> !transform.any_op
    transform.yield
  }
}
