// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @notice One aggregation rule as the on-chain fraud proofs apply it to one leaf (docs/protocol.md section 4).
/// A rule is leaf-local: the next model's coordinate c depends only on coordinate c of the previous model and
/// of the included updates, so a wrong aggregate is provable at one leaf. Each rule is a library in this folder
/// that returns its LeafRule; RuleRegistry maps the task's rule id to it.
/// @param center The rule's center of every coordinate of the leaf, before the server step: from `values`
/// (coordinate-major: values[c * updates + u] is coordinate c of update u, an int32), the number of updates,
/// their weights (min(sampleCount, sampleCap), in the same order) and the task's ruleParam. The shared tail
/// (LeafRules.applyStep) turns centers into the next model.
/// @param accepts Whether the rule takes `ruleParam` in plain mode (secure = false) or in secure mode, where
/// only the sum of the weighted updates is ever unmasked.
/// @param proofGas Upper bound of the execution gas `center` spends on a leaf of `coordinates` coordinates
/// with `updates` updates (TaskParamsValidator.worstFraudProof adds it to the bound of a fraud proof).
/// @param normed Whether the rule scales each update by its declared squared L2 norm (docs/protocol.md section
/// 4.4): the fraud proof then carries each update's norm declaration (normRoot, normSq) after its head word, and
/// the verifier hands `center`, in place of each weight w_u, `w_u << 128 | e_u` with e_u the effective weight
/// (NormBoundedRule.effectiveWeight).
struct LeafRule {
    function(int256[] memory, uint256, uint256[] memory, uint256) internal pure returns (int256[] memory) center;
    function(uint256, bool) internal pure returns (bool) accepts;
    function(uint256, uint256) internal pure returns (uint256) proofGas;
    bool normed;
}
