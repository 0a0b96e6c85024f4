// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Tests narrow vector values and build bitmaps with shifts of 1 on purpose.
// forge-lint: disable-start(unsafe-typecast,incorrect-shift)

import {TestBase} from "../utils/TestBase.sol";
import {LeafProof} from "../../src/FedTypes.sol";
import {SecureFraudProof, SecureLeafContext} from "../../src/secure/SecureTypes.sol";

/// @dev The cheatcodes for reading tests/vectors/secure.json that TestBase's interface does not declare.
interface VmSecureJson {
    function parseJsonAddressArray(string calldata json, string calldata key) external pure returns (address[] memory);
    function parseJsonString(string calldata json, string calldata key) external pure returns (string memory);
}

/// @dev Reads tests/vectors/secure.json (written by tests/vectors/make_secure_vectors.py from fedchain.secagg
/// and checked there against an independent Python reference).
abstract contract SecureVectors is TestBase {
    string internal constant SECURE_PATH = "../tests/vectors/secure.json";
    VmSecureJson internal constant vmJson = VmSecureJson(address(uint160(uint256(keccak256("hevm cheat code")))));
    string internal json;

    function _loadVectors() internal {
        json = vm.readFile(SECURE_PATH);
    }

    function _key(string memory section, uint256 i) internal pure returns (string memory) {
        return string.concat(".", section, "[", vm.toString(i), "]");
    }

    function _count(string memory section) internal view returns (uint256 n) {
        while (vm.keyExistsJson(json, _key(section, n))) ++n;
    }

    function _uint(string memory key, string memory field) internal view returns (uint256) {
        return vm.parseJsonUint(json, string.concat(key, ".", field));
    }

    function _b32(string memory key, string memory field) internal view returns (bytes32) {
        return vm.parseJsonBytes32(json, string.concat(key, ".", field));
    }

    /// @dev parseJsonBytes32Array cannot type an empty JSON array: test the first element's key first.
    function _words(string memory key) internal view returns (bytes32[] memory) {
        if (!vm.keyExistsJson(json, string.concat(key, "[0]"))) return new bytes32[](0);
        return vm.parseJsonBytes32Array(json, key);
    }

    function _proofCase(uint256 i)
        internal
        view
        returns (SecureLeafContext memory ctx, SecureFraudProof memory proof, string memory name)
    {
        string memory k = _key("proofs", i);
        string memory c = string.concat(k, ".ctx");
        ctx.depth = _uint(c, "depth");
        ctx.wordsPerLeaf = _uint(c, "wordsPerLeaf");
        ctx.leafIndex = _uint(c, "leafIndex");
        ctx.previousRoot = _b32(c, "previousRoot");
        ctx.proposedRoot = _b32(c, "proposedRoot");
        ctx.serverLrBps = _uint(c, "serverLrBps");
        ctx.clip = _uint(c, "clip");
        ctx.numParams = _uint(c, "numParams");
        ctx.roundSeed = _b32(c, "roundSeed");
        ctx.advertised = _uint(c, "advertised");
        ctx.neighbours = _uint(c, "neighbours");
        ctx.uploads = _uint(c, "uploads");
        ctx.commits = _uint(c, "commits");
        ctx.transcriptHash = _b32(c, "transcriptHash");
        proof.previous =
            LeafProof(_words(string.concat(k, ".previous.words")), _words(string.concat(k, ".previous.siblings")));
        proof.proposed =
            LeafProof(_words(string.concat(k, ".proposed.words")), _words(string.concat(k, ".proposed.siblings")));
        proof.survivors = _words(string.concat(k, ".survivors"));
        proof.dropped = _words(string.concat(k, ".dropped"));
        name = vmJson.parseJsonString(json, string.concat(k, ".name"));
    }
}
// forge-lint: disable-end(unsafe-typecast,incorrect-shift)
