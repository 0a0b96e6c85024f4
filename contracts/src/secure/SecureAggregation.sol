// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title SecureAggregation
/// @notice The hashes, the neighbour ring and the parameter rules of secure mode (docs/protocol.md section 10),
/// bit for bit as fedchain.secagg computes them.
library SecureAggregation {
    /// @notice keccak256("fedchain.secagg.v1.round-seed").
    bytes32 internal constant ROUND_SEED_TAG = keccak256("fedchain.secagg.v1.round-seed");
    /// @notice keccak256("fedchain.secagg.v1.ring").
    bytes32 internal constant RING_TAG = keccak256("fedchain.secagg.v1.ring");
    /// @notice keccak256("fedchain.secagg.v1.self-seed").
    bytes32 internal constant SELF_SEED_TAG = keccak256("fedchain.secagg.v1.self-seed");
    /// @notice keccak256("fedchain.secagg.v1.pair-mask").
    bytes32 internal constant PAIR_MASK_TAG = keccak256("fedchain.secagg.v1.pair-mask");
    /// @notice Largest cohort of a round (TaskParamsValidator.MAX_COHORT).
    uint256 internal constant MAX_COHORT = 256;
    /// @notice Largest neighbour count k.
    uint256 internal constant MAX_NEIGHBOURS = 254;
    /// @notice Smallest reconstruction threshold t.
    uint256 internal constant MIN_THRESHOLD = 2;
    /// @notice Largest |weighted sum| the ring Z_2^64 reads back unambiguously: 2^63 - 1.
    uint256 internal constant SIGNED_RING_MAX = uint256(uint64(type(int64).max));

    /// @notice Folds one advertised key pair (BN254 mask key (pkX, pkY), X25519 encryption key) into the
    /// round's running digest, which starts from zero.
    function advertiseDigest(bytes32 previous, address participant, uint256 pkX, uint256 pkY, bytes32 encryptionKey)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(previous, participant, pkX, pkY, encryptionKey));
    }

    /// @notice The round seed fixed when the advertise window closes.
    function roundSeed(
        uint256 chainId,
        address coordinator,
        uint256 taskId,
        uint256 round,
        bytes32 digest,
        uint256 randomness
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(ROUND_SEED_TAG, chainId, coordinator, taskId, round, digest, randomness));
    }

    /// @notice Commitment to a self-mask seed.
    function selfSeedHash(uint256 seed) internal pure returns (bytes32) {
        return keccak256(abi.encode(SELF_SEED_TAG, seed));
    }

    /// @notice Stream key of the pairwise mask of `first` and `second` from their Diffie-Hellman point (x, y).
    function pairMaskKey(bytes32 seed, uint256 x, uint256 y, address first, address second)
        internal
        pure
        returns (bytes32)
    {
        (address low, address high) = first < second ? (first, second) : (second, first);
        return keccak256(abi.encode(PAIR_MASK_TAG, seed, x, y, low, high));
    }

    /// @notice What the coordinator's slot binds for one participant (maskedRoot is zero before the upload).
    function record(
        uint256 index,
        uint256 pkX,
        uint256 pkY,
        bytes32 seedHash,
        bytes32 shareBundleRef,
        uint256 weight,
        bytes32 maskedRoot
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(index, pkX, pkY, seedHash, shareBundleRef, weight, maskedRoot));
    }

    /// @notice Advertise index at every ring position 0..n-1: a Fisher-Yates shuffle of the indices where step
    /// i (from n-1 down to 1) swaps i with keccak(abi.encode(RING_TAG, seed, i)) mod (i + 1).
    function ringOrder(bytes32 seed, uint256 n) internal pure returns (uint256[] memory order) {
        order = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            order[i] = i;
        }
        for (uint256 i = n; i > 1;) {
            --i;
            uint256 j = uint256(keccak256(abi.encode(RING_TAG, seed, i))) % (i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
    }

    /// @notice Ring position of every advertise index 0..n-1 (the inverse of ringOrder).
    function ringPositions(bytes32 seed, uint256 n) internal pure returns (uint256[] memory positions) {
        uint256[] memory order = ringOrder(seed, n);
        positions = new uint256[](n);
        for (uint256 p = 0; p < n; ++p) {
            positions[order[p]] = p;
        }
    }

    /// @notice Whether two distinct ring positions of an n-ring are neighbours for k neighbours per member.
    function adjacent(uint256 first, uint256 second, uint256 n, uint256 k) internal pure returns (bool) {
        if (first == second) return false;
        if (n - 1 <= k) return true;
        uint256 distance = first > second ? first - second : second - first;
        if (n - distance < distance) distance = n - distance;
        return distance <= k / 2;
    }

    /// @notice Whether the survivors (bit i of `uploaded` set = advertise index i uploaded) may be unmasked:
    /// at least one survivor, each with at least t surviving neighbours, and the survivors' graph connected
    /// (docs/protocol.md section 10.7). On the ring a survivor's neighbours are the positions within k/2, so
    /// the graph is connected iff at most one gap between ring-consecutive survivors exceeds k/2.
    function unmaskable(bytes32 seed, uint256 n, uint256 k, uint256 t, uint256 uploaded) internal pure returns (bool) {
        if (n == 0 || n > MAX_COHORT || (n < 256 && uploaded >> n != 0)) return false;
        uint256 survivors = _popCount(uploaded);
        if (survivors == 0) return false;
        if (n - 1 <= k) return survivors - 1 >= t;
        uint256[] memory order = ringOrder(seed, n);
        // a survivor's neighbourhood: the 2 * (k / 2) + 1 ring positions around it, itself included
        return _ringRule(order, _ringPrefix(order, uploaded), uploaded, k / 2, k - (k % 2) + 1, t);
    }

    /// @dev prefix[i] = survivors among ring positions [0, i) of the ring laid out twice (i <= 2n).
    function _ringPrefix(uint256[] memory order, uint256 uploaded) private pure returns (uint256[] memory prefix) {
        uint256 n = order.length;
        prefix = new uint256[](2 * n + 1);
        for (uint256 i = 0; i < 2 * n; ++i) {
            prefix[i + 1] = prefix[i] + ((uploaded >> order[i % n]) & 1);
        }
    }

    /// @dev The rule on a ring of more than k + 1 positions: each survivor sees at least t others in its
    /// window, and at most one gap between ring-consecutive survivors exceeds k / 2.
    function _ringRule(
        uint256[] memory order,
        uint256[] memory prefix,
        uint256 uploaded,
        uint256 half,
        uint256 window,
        uint256 t
    ) private pure returns (bool) {
        uint256 n = order.length;
        uint256 bigGaps = 0;
        uint256 previous = type(uint256).max;
        uint256 first = 0;
        for (uint256 p = 0; p < n; ++p) {
            if ((uploaded >> order[p]) & 1 == 0) continue;
            uint256 start = (p + n - half) % n; // window < n, so it ends within the second copy
            if (prefix[start + window] - prefix[start] - 1 < t) return false;
            if (previous == type(uint256).max) first = p;
            else if (p - previous > half) ++bigGaps;
            previous = p;
        }
        if (first + n - previous > half) ++bigGaps;
        return bigGaps <= 1;
    }

    /// @notice Name of the first secure-mode task parameter out of range, or "" when all are valid: k even
    /// in [2, 254], t in [2, k], W in {1, 2, 4}, and clip * sampleCap * cohortCap <= 2^63 - 1 (the ring bound).
    function invalidParameter(
        uint256 neighbours,
        uint256 threshold,
        uint256 wordsPerLeaf,
        uint256 clip,
        uint256 sampleCap,
        uint256 cohortCap
    ) internal pure returns (string memory) {
        if (neighbours < 2 || neighbours > MAX_NEIGHBOURS || neighbours % 2 != 0) return "neighbours";
        if (threshold < MIN_THRESHOLD || threshold > neighbours) return "threshold";
        if (wordsPerLeaf != 1 && wordsPerLeaf != 2 && wordsPerLeaf != 4) return "wordsPerLeaf";
        if (cohortCap == 0 || cohortCap > MAX_COHORT || clip == 0 || sampleCap == 0) return "ringBound";
        if (clip > SIGNED_RING_MAX / sampleCap / cohortCap) return "ringBound";
        return "";
    }

    /// @dev Number of set bits.
    function _popCount(uint256 bits) private pure returns (uint256 count) {
        while (bits != 0) {
            bits &= bits - 1;
            ++count;
        }
    }
}
