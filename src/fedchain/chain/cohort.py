"""The chain's cohort rule (``Cohort.includes``, docs/protocol.md section 8.2), recomputed off chain.

When a round opens with more members than its cohort takes, each member is in the round's cohort when
``uint256(keccak256(abi.encode(uint160 seed, address member))) % members < cohortCap``, where ``seed`` and
``members`` are the round's ``cohortSeed`` and ``sampledFrom``. An agent decides from the round's view alone,
with no call per member, and anyone can check who was picked.
"""

from eth_abi.abi import encode

from fedchain.commit.keccak import keccak256


def cohort_includes(seed: int, members: int, cohort_cap: int, member: str) -> bool:
    """Whether ``member`` is in the cohort of a round sampled with ``seed`` from ``members`` members (``members``
    0: the round was not sampled and every member may enter)."""
    if members == 0:
        return True
    digest = keccak256(encode(["uint160", "address"], [seed, member]))
    return int.from_bytes(digest, "big") % members < cohort_cap
