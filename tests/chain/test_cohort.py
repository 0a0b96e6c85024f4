"""The off-chain cohort rule agrees with the one docs/protocol.md section 8.2 states (the auditor's, written from the
document alone) and with the contract's ``inCohort`` (tests/roles/test_cohort.py checks it on a live chain)."""

from __future__ import annotations

import secrets

from eth_account import Account

from fedchain.chain.cohort import cohort_includes
from tests.audit.auditor import in_cohort as documented_rule

MEMBERS = 1000
CAP = 64


def test_an_unsampled_round_takes_every_member() -> None:
    assert cohort_includes(12345, 0, 1, Account.create().address)


def test_the_rule_is_the_documented_one_and_picks_about_cap_of_members() -> None:
    seed = int.from_bytes(secrets.token_bytes(20), "big")
    members = [Account.create().address for _ in range(MEMBERS)]
    picked = [member for member in members if cohort_includes(seed, MEMBERS, CAP, member)]
    assert picked == [member for member in members if documented_rule(seed, MEMBERS, CAP, member)]
    # each member is picked independently with probability CAP / MEMBERS: 64 expected, sd about 7.7
    assert CAP - 40 < len(picked) < CAP + 40
