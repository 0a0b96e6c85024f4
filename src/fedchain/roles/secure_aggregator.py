"""The secure-mode aggregator: unmasks the survivors' sum and proposes the next model with its transcript.

After the unmask deadline it reads the round's sets from the chain, fetches every survivor's last announced
unmask bundle and masked vector by the references on chain, rebuilds the secrets the round needs
(``reconstruct``: each survivor's self seed, and the mask key of each dropped member that neighbours a
survivor, every one checked against its owner's commitment), removes the masks (``unmask``: exactly the
survivors' weighted sum), applies the rule (``secure_fedavg``, which equals plain FedAvg on honest inputs)
and proposes the model's root and blob with the transcript of those secrets (docs/protocol.md section
10.8). It learns the sum, never an individual update. Bonding, the chores, standby and settling are those
of every aggregator (:class:`BaseAggregator`).

A round whose secrets cannot be rebuilt (too few valid shares were published) has no valid proposal: the
aggregator says so once and leaves the round, which stalls and can be failed after the contract's
STALL_WINDOWS windows (any aggregator's chores call ``failRound`` then).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from eth_account.signers.local import LocalAccount
from numpy.typing import NDArray
from web3 import Web3

from fedchain.chain.coordinator import TaskState
from fedchain.chain.secure_coordinator import SecureCoordinator
from fedchain.roles.aggregator import BaseAggregator
from fedchain.roles.availability import UnavailableError
from fedchain.roles.secure_round import fetch_survivor_masked, fetch_unmask_bundles, read_round
from fedchain.roles.task import RoleError, fetch_model
from fedchain.secagg.aggregate import secure_fedavg
from fedchain.secagg.errors import RoundFailedError
from fedchain.secagg.unmask import reconstruct, unmask
from fedchain.storage import BlobStore


class SecureAggregator(BaseAggregator):
    """A bonded aggregator of secure rounds (``bond`` and ``standby`` as for any aggregator)."""

    COORDINATOR = SecureCoordinator
    coordinator: SecureCoordinator
    INPUT = "masked update"

    def __init__(self, coordinator: SecureCoordinator, store: BlobStore, task_id: int, account: LocalAccount, *,
                 bond: int | None = None, standby: bool = False) -> None:
        super().__init__(coordinator, store, task_id, account, bond=bond, standby=standby)
        self._unmaskable_never: set[int] = set()

    def propose_model(self, round: int, previous: NDArray[np.int32], weighted_sum: NDArray[np.int64],
                      total_weight: int) -> NDArray[np.int32]:
        """The model to propose: the task's rule on the survivors' unmasked weighted sum (override to cheat)."""
        params = self.rules.params
        return secure_fedavg(previous, weighted_sum, total_weight, clip=params.clip,
                             server_lr_bps=params.server_lr_bps)

    def _propose(self, round: int, state: TaskState) -> None:
        if round in self._unmaskable_never:
            return
        rules = self.rules
        chain_round = read_round(self.coordinator, rules, self.task_id, round)
        if chain_round is None:
            raise RoleError(f"round {round} is open for proposals but the chain shows no round seed")
        sets = chain_round.sets
        bundles, problems = fetch_unmask_bundles(self.coordinator, self.store, self.task_id, chain_round)
        for problem in problems:
            self.warn(f"round {round}: {problem}; rebuilding its secrets from its neighbours' shares", round=round,
                      once=("bundle", round, problem))
        try:
            transcript = reconstruct(sets, bundles, rules.params.min_participants)
        except RoundFailedError as error:
            self._unmaskable_never.add(round)
            self.warn(f"round {round} cannot be unmasked, so it cannot be proposed: {error}", event="round_unmaskable",
                      round=round)
            return
        masked: dict[bytes, NDArray[np.uint64]] = {}
        for survivor in sets.survivors():
            try:
                masked[survivor.address] = fetch_survivor_masked(self.coordinator, self.store, rules, self.task_id,
                                                                 chain_round, survivor.address, verified=self.verified)
            except UnavailableError as error:
                self.wait_for_input(round, Web3.to_checksum_address(survivor.address), error)
        if len(masked) < len(sets.survivors()):
            return
        weighted_sum = unmask(sets, masked, transcript)
        previous = fetch_model(self.store, rules, state.model_root, state.model_blob_ref, verified=self.verified)
        model = self.propose_model(round, previous, weighted_sum, sets.total_weight())
        stored = self.store_model(round, model)
        self.coordinator.propose(self.task_id, stored.header.root, stored.ref, transcript.words(sets),
                                 sender=self.account)
        self.log(f"propose {round}", round=round, root="0x" + stored.header.root.hex(), inputs=len(masked))


class SecureTamperingAggregator(SecureAggregator):
    """Adversarial: in ``rounds`` it adds ``delta`` to ``coordinate`` of the correct model (with the correct
    transcript, so only the leaf arithmetic of a fraud proof shows it)."""

    def __init__(self, *args: Any, rounds: frozenset[int], coordinate: int = 0, delta: int = 1,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tamper_rounds = rounds
        self.coordinate = coordinate
        self.delta = delta

    def propose_model(self, round: int, previous: NDArray[np.int32], weighted_sum: NDArray[np.int64],
                      total_weight: int) -> NDArray[np.int32]:
        """The correct model, with one coordinate altered in a tampered round."""
        model = super().propose_model(round, previous, weighted_sum, total_weight)
        if round in self.tamper_rounds:
            model = model.copy()
            model[self.coordinate] = np.int32(int(model[self.coordinate]) + self.delta)
        return model


class SecureWithholdingAggregator(SecureTamperingAggregator):
    """Adversarial: in ``rounds`` it proposes a tampered model (with the correct transcript); in the
    ``withheld`` ones (default: all of them) it never publishes its blob, and so cannot answer a dispute of it."""

    def __init__(self, *args: Any, withheld: frozenset[int] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.withheld_rounds = self.tamper_rounds if withheld is None else withheld

    def publishes(self, round: int) -> bool:
        """Never in a ``withheld`` round (by default every tampered round)."""
        return round not in self.withheld_rounds
