"""Secure-mode constants (docs/protocol.md §10): the masking ring, the curves, the stream and the domain tags.

Every number and tag the Solidity side (contracts/src/secure) must agree on lives here.
"""

from typing import Final

from fedchain.commit.keccak import keccak256

# Ring: masked coordinates live in Z_2^64, four big-endian uint64 lanes per 32-byte word.
RING_BITS: Final = 64
RING_MODULUS: Final = 1 << RING_BITS
SIGNED_RING_MAX: Final = (1 << (RING_BITS - 1)) - 1
MASKED_LANE_BYTES: Final = RING_BITS // 8
MASKED_WORDS_PER_LEAF_WORD: Final = 2
"""A masked leaf holds the same 8W coordinates as a model leaf, in 2W words."""
SECURE_WORDS_PER_LEAF: Final = (1, 2, 4)
"""Leaf widths W secure mode allows, so that a masked leaf (2W words) stays within the 8-word leaf limit."""

# BN254 (alt_bn128) G1, the curve of the EVM's ecAdd/ecMul precompiles (EIP-196): the mask keys.
FIELD_MODULUS: Final = 21888242871839275222246405745257275088696311157297823662689037894645226208583
GROUP_ORDER: Final = 21888242871839275222246405745257275088548364400416034343698204186575808495617
CURVE_B: Final = 3
GENERATOR: Final = (1, 2)

# X25519 (RFC 7748): the encryption keys of the share channel, never checked on chain.
X25519_KEY_BYTES: Final = 32

# Mask stream: ChaCha20 (RFC 8439 block function), 64-bit block counter in state words 12-13, zero nonce.
CHACHA_KEY_BYTES: Final = 32
CHACHA_BLOCK_BYTES: Final = 64
CHACHA_COUNTER_LIMIT: Final = 1 << 64
CHACHA_LOW_COUNTER_SPAN: Final = 1 << 32
"""The `cryptography` package takes a 32-bit counter; generation is split at multiples of 2^32 blocks."""
MASKS_PER_BLOCK: Final = CHACHA_BLOCK_BYTES // MASKED_LANE_BYTES

# Share encryption: ChaCha20-Poly1305 (RFC 8439) with a per-direction key and a random per-bundle nonce.
AEAD_NONCE_BYTES: Final = 12
AEAD_TAG_BYTES: Final = 16
SCALAR_BYTES: Final = 32
SHARE_PLAINTEXT_BYTES: Final = 2 * SCALAR_BYTES
SHARE_CIPHERTEXT_BYTES: Final = SHARE_PLAINTEXT_BYTES + AEAD_TAG_BYTES

# Task parameters of secure mode.
MIN_NEIGHBOURS: Final = 2
MAX_NEIGHBOURS: Final = 254
MIN_THRESHOLD: Final = 2
MAX_DEFAULT_NEIGHBOURS: Final = 8
"""Most neighbours :func:`fedchain.secagg.params.default_secure_params` gives (SecAgg+ suggests about 2 log2 n)."""
MAX_COHORT: Final = 256
MAX_WEIGHT: Final = 1 << 20
"""Largest weight a participant applies (the plain-mode sampleCap bound, docs/protocol.md §4)."""

# Domain tags: keccak of a fixed ASCII name, so no two derivations can ever share a preimage.
ROUND_SEED_TAG: Final = keccak256(b"fedchain.secagg.v1.round-seed")
RING_TAG: Final = keccak256(b"fedchain.secagg.v1.ring")
SELF_SEED_TAG: Final = keccak256(b"fedchain.secagg.v1.self-seed")
PAIR_MASK_TAG: Final = keccak256(b"fedchain.secagg.v1.pair-mask")
SHARE_KEY_TAG: Final = keccak256(b"fedchain.secagg.v1.share-key")

# Byte formats of share bundles and unmask bundles (§10.6).
SHARE_BUNDLE_MAGIC: Final = b"FCS1"
UNMASK_BUNDLE_MAGIC: Final = b"FCU1"
BUNDLE_COUNT_BYTES: Final = 2
ADDRESS_BYTES: Final = 20

# Fraud-proof lists (§10.10): words per entry before the masked leaf words, and per dropped entry.
SURVIVOR_HEAD_WORDS: Final = 6
DROPPED_STRIDE: Final = 6
