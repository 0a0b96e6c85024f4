"""The typed client of contribution scores (docs/protocol.md section 12) against the contract: one scored round from
seats to pay, every view and event read back, the scores commitment and score words equal fedchain.score's, and each
kind of slash."""

from __future__ import annotations

from dataclasses import replace

import pytest
from eth_account.signers.local import LocalAccount

from fedchain.chain import Chain, ContractRevertError
from fedchain.chain.coordinator import Coordinator, EntryState, Mode, RoundPhase, TaskParams, Token
from fedchain.chain.scoring import Ballot, ScoringParams, ValidatorFault
from fedchain.commit.commitment import commit_hash
from fedchain.score.commitment import scores_hash
from fedchain.score.constants import MAX_SEATS, NO_SCORE, SCORE_ONE
from fedchain.score.words import pack_scores, word_median

WINDOW = 50
REWARD = 1_000_000
VALIDATOR_STAKE = 100


def task(token: str) -> TaskParams:
    return TaskParams(
        commit_window=WINDOW, reveal_window=WINDOW, propose_window=WINDOW, challenge_window=WINDOW, cohort_cap=4,
        min_participants=1, sample_cap=100, num_rounds=1, max_silent_rounds=2, token=token, mode=0, rule=0,
        scale_bits=8, words_per_leaf=1, clip=100, num_params=20, server_lr_bps=10_000, unbonding_delay=10,
        allowlist=False, missed_reveal_slash_bps=1_000, silence_slash_bps=100, violation_slash_bps=1_000,
        aggregator_slash_bps=1_000, bounty_bps=1_000, aggregator_fee_bps=100, min_stake=10, aggregator_bond=10,
        reward_per_round=REWARD, availability_window=WINDOW, availability_bond=5, model_spec_hash=b"\x07" * 32,
    )


SCORING = ScoringParams(committee=4, score_window=WINDOW, validator_stake=VALIDATOR_STAKE)


def sorted_by_address(accounts: list[LocalAccount]) -> list[LocalAccount]:
    return sorted(accounts, key=lambda account: int(account.address, 16))


def test_a_scored_round_from_seats_to_pay(embedded_chain: Chain) -> None:
    requester, aggregator, *rest = embedded_chain.accounts[:9]
    members, validators = sorted_by_address(rest[:2]), rest[2:6]
    coordinator = Coordinator.deploy(embedded_chain)
    token = Token.deploy_dev(embedded_chain)
    for account in (requester, aggregator, *members, *validators):
        token.mint(account.address, 10**7, sender=requester)
        token.approve(coordinator.address, 10**7, sender=account)
    assert tuple(coordinator.scoring_constants()) == (SCORE_ONE, NO_SCORE, MAX_SEATS)
    assert embedded_chain.w3.eth.get_code(coordinator.scoring_module())

    with pytest.raises(ContractRevertError) as secure:
        coordinator.create_scored_task(replace(task(token.address), mode=Mode.SECURE), SCORING, b"\x01" * 32,
                                       b"\x02" * 32, sender=requester)
    assert secure.value.error.name == "InvalidTaskParameter"
    unscored = coordinator.create_task(task(token.address), b"\x01" * 32, b"\x02" * 32, sender=requester)
    assert not coordinator.scoring_params(unscored).scored
    task_id = coordinator.create_scored_task(task(token.address), SCORING, b"\x01" * 32, b"\x02" * 32,
                                             sender=requester)
    assert coordinator.scoring_params(task_id) == SCORING and SCORING.scored

    for validator in validators:
        coordinator.join_committee(task_id, sender=validator)
    assert coordinator.validators(task_id) == [validator.address for validator in validators]
    seat = coordinator.validator_seat(task_id, validators[2].address)
    assert (seat.stake, seat.lane, seat.joined, seat.since_round) == (VALIDATOR_STAKE, 2, True, 0)
    coordinator.post_bond(task_id, 10, sender=aggregator)
    for member in members:
        coordinator.join(task_id, 10, sender=member)  # the first opens round 0
    assert coordinator.score_round(task_id, 0).pool == 4
    assert all(coordinator.on_committee(task_id, 0, validator.address) for validator in validators)

    for index, member in enumerate(members):
        root = bytes([index + 5]) * 32
        digest = commit_hash(chain_id=embedded_chain.chain_id, coordinator=coordinator.address, task_id=task_id,
                             round=0, participant=member.address, root=root, sample_count=50, salt=root)
        coordinator.commit(task_id, digest, sender=member)
    embedded_chain.advance_to(coordinator.round_view(task_id, 0).commit_end)
    for index, member in enumerate(members):
        root = bytes([index + 5]) * 32
        coordinator.reveal(task_id, root, 50, root, b"\x08" * 32, sender=member)
    view = coordinator.round_view(task_id, 0)
    embedded_chain.advance_to(view.reveal_end)
    assert coordinator.round_view(task_id, 0).phase == RoundPhase.SCORE
    assert view.propose_start == view.reveal_end + 2 * WINDOW

    participants = [member.address for member in members]
    ballots = {0: [9000, 1000], 1: [8000, NO_SCORE], 2: [2000, 500]}  # validator 3 stays silent
    salts = {lane: bytes([lane + 1]) * 32 for lane in ballots}
    for lane, scores in ballots.items():
        digest = scores_hash(chain_id=embedded_chain.chain_id, coordinator=coordinator.address, task_id=task_id,
                             round=0, validator=validators[lane].address, participants=participants, scores=scores,
                             salt=salts[lane])
        assert coordinator.scores_commitment_of(task_id, 0, validators[lane].address, participants, scores,
                                                salts[lane]) == digest
        coordinator.commit_scores(task_id, digest, sender=validators[lane])
    assert coordinator.ballot(task_id, 0, validators[0].address).commit_hash != bytes(32)
    embedded_chain.advance_to(view.reveal_end + WINDOW)
    for lane, scores in ballots.items():
        coordinator.reveal_scores(task_id, participants, scores, salts[lane], sender=validators[lane])
    revealed = coordinator.revealed_scores(task_id, 0)
    assert [(event.validator, event.participants, event.scores) for event in revealed] == [
        (validators[lane].address, tuple(participants), tuple(scores)) for lane, scores in ballots.items()]
    assert coordinator.score_round(task_id, 0).reveals == 3
    assert coordinator.ballot(task_id, 0, validators[1].address) == Ballot(
        coordinator.ballot(task_id, 0, validators[1].address).commit_hash, 1, True, False)
    for position, member in enumerate(members):
        word = coordinator.scores_of(task_id, 0, member.address)
        assert word == pack_scores({lane: scores[position] for lane, scores in ballots.items()})
        assert coordinator.median_score(task_id, 0, member.address) == word_median(word)
    assert coordinator.median_score(task_id, 0, members[0].address) == (3, 8000)
    assert coordinator.median_score(task_id, 0, members[1].address) == (2, 500)

    embedded_chain.advance_to(view.propose_start)
    slasher = aggregator
    with pytest.raises(ContractRevertError) as above:
        coordinator.drop_low_score(task_id, members[0].address, sender=slasher)
    assert (above.value.error.name, above.value.error.args) == ("ScoreAboveThreshold", (8000, 2000))
    coordinator.drop_low_score(task_id, members[1].address, sender=slasher)
    (scored_out,) = coordinator.scored_out(task_id)
    assert (scored_out.participant, scored_out.median) == (members[1].address, 500)
    assert coordinator.entry_state(task_id, 0, members[1].address) == EntryState.DROPPED
    with pytest.raises(ContractRevertError) as within:
        coordinator.slash_deviation(task_id, 0, validators[0].address, members[1].address, sender=slasher)
    assert within.value.error.name == "WithinTolerance"
    coordinator.slash_deviation(task_id, 0, validators[2].address, members[0].address, sender=slasher)

    coordinator.propose(task_id, b"\x0a" * 32, b"\x0b" * 32, sender=aggregator)
    embedded_chain.advance_to(coordinator.round_view(task_id, 0).challenge_end)
    coordinator.finalize(task_id, sender=aggregator)
    coordinator.slash_silent_validator(task_id, 0, validators[3].address, sender=slasher)
    slashes = coordinator.validator_slashes(task_id)
    assert [(slash.validator, slash.fault, slash.slashed) for slash in slashes] == [
        (validators[2].address, ValidatorFault.DEVIATED, VALIDATOR_STAKE // 10),
        (validators[3].address, ValidatorFault.SILENT, VALIDATOR_STAKE // 10)]

    fee = REWARD * 100 // 10_000
    assert coordinator.score_round(task_id, 0).reveals == 2, "the slashed validator's reveal no longer counts"
    per_validator = REWARD * 500 // 10_000 // 2
    per_point = (REWARD - fee - 2 * per_validator) // SCORE_ONE  # one included update
    assert coordinator.round_view(task_id, 0).reward_per_weight == per_point
    assert coordinator.claimable(task_id, members[0].address) == 8000 * per_point
    assert coordinator.claimable(task_id, members[1].address) == 0
    assert coordinator.validator_seat(task_id, validators[0].address).fees == per_validator
    assert coordinator.validator_seat(task_id, validators[2].address).fees == 0
    before = token.balance_of(validators[0].address)
    coordinator.claim_validator_fees(task_id, sender=validators[0])
    coordinator.withdraw_validator(task_id, sender=validators[0])
    assert token.balance_of(validators[0].address) - before == per_validator + VALIDATOR_STAKE
    assert not coordinator.validator_seat(task_id, validators[0].address).joined


def test_a_seat_leaves_after_the_current_round(embedded_chain: Chain) -> None:
    requester, validator = embedded_chain.accounts[:2]
    coordinator = Coordinator.deploy(embedded_chain)
    token = Token.deploy_dev(embedded_chain)
    for account in (requester, validator):
        token.mint(account.address, 10**7, sender=requester)
        token.approve(coordinator.address, 10**7, sender=account)
    task_id = coordinator.create_scored_task(task(token.address), SCORING, b"\x01" * 32, b"\x02" * 32,
                                             sender=requester)
    coordinator.join_committee(task_id, sender=validator)
    with pytest.raises(ContractRevertError) as staying:
        coordinator.withdraw_validator(task_id, sender=validator)
    assert staying.value.error.name == "NotExiting"
    coordinator.request_committee_exit(task_id, sender=validator)
    seat = coordinator.validator_seat(task_id, validator.address)
    assert seat.exit_requested_at == embedded_chain.now() and seat.until_round == 0
    embedded_chain.advance_time(10)
    coordinator.withdraw_validator(task_id, sender=validator)
    assert not coordinator.validator_seat(task_id, validator.address).joined
