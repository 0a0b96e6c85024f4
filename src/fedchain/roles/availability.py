"""Availability as every agent takes part in it (docs/protocol.md section 11): withheld bytes never win.

- **Reading an input.** An update (plain) or masked vector (secure) is read from the task's store; when it
  is not there but an availability challenge on it resolved, it is rebuilt from the chunks posted on chain
  (:func:`posted_tree`), so whatever the owner withholds from the store, a resolved challenge puts in the
  open for every watcher and aggregator.
- **Answering a challenge.** Whoever holds a challenged input posts its missing chunks before the deadline
  (:func:`post_missing_chunks`): its owner from its journal or store, or anyone else holding it (each chunk
  pays its poster a share of the challenger's bond).
- **Answering a dispute.** Whoever holds a disputed proposal's tree posts the disputed node's two children, or
  at a leaf its words (:func:`answer_disputes`): the aggregator that proposed it, or anyone who recomputed it.
- **Driving a dispute.** A challenger that recomputed the model itself descends into a child that differs
  from its own tree (:func:`differing_child`), so it reaches a wrong leaf without ever seeing the proposal's
  blob, and proves the proposal wrong there with the leaf and the path the answers put on chain
  (:func:`opened_leaf`).

Everything here reads the chain afresh and sends only what is still missing, so a restarted agent carries
on where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from fedchain.chain.coordinator import ChallengeStatus, CoordinatorClient, DisputeStatus, DisputeStep
from fedchain.commit.chunks import PostedTree, chunk_of
from fedchain.commit.errors import LayoutError
from fedchain.commit.leaves import LeafLayout
from fedchain.commit.merkle import MerkleTree
from fedchain.storage import BlobNotFoundError, StorageError, blob_ref, ref_hex


class UnavailableError(StorageError):
    """An input or model is neither in the store nor on chain (yet)."""


class WithheldStore:
    """A :class:`~fedchain.storage.BlobStore` that keeps nothing: what a party withholding its blobs
    publishes (the reference goes on chain, the bytes nowhere). Adversarial variants store through it."""

    def put(self, data: bytes) -> bytes:
        """The reference ``data`` would have; nothing is kept."""
        return blob_ref(data)

    def get(self, ref: bytes) -> bytes:
        """Nothing is ever there."""
        raise BlobNotFoundError(f"blob {ref_hex(ref)} was withheld")

    def has(self, ref: bytes) -> bool:
        """Nothing is ever there."""
        return False


@dataclass(frozen=True)
class OpenedLeaf:
    """One leaf of a proposed tree, opened by a model dispute: its words and its path, leaf level first.

    It answers :meth:`leaf_words` and :meth:`proof` for its own index as a :class:`MerkleTree` does, so a
    fraud proof can be built from it where it needs the proposal's leaf."""

    index: int
    words: tuple[bytes, ...]
    path: tuple[bytes, ...]

    def leaf_words(self, index: int) -> tuple[bytes, ...]:
        """The opened leaf's words (``index`` must be the opened one)."""
        self._check(index)
        return self.words

    def proof(self, index: int) -> tuple[bytes, ...]:
        """The opened leaf's path (``index`` must be the opened one)."""
        self._check(index)
        return self.path

    def _check(self, index: int) -> None:
        if index != self.index:
            raise LayoutError(f"only leaf {self.index} of the proposal is open, not leaf {index}")


def posted_tree(coordinator: CoordinatorClient, task_id: int, round: int, owner: str, root: bytes,
                layout: LeafLayout) -> PostedTree | None:
    """``owner``'s input of ``round`` with tree ``root``, as the chunks of a resolved availability challenge
    put it on chain; None unless such a challenge resolved."""
    challenge = coordinator.input_challenge(task_id, round, owner)
    if challenge.status != ChallengeStatus.RESOLVED or challenge.root != root:
        return None
    chunks = [posted.chunk for posted in coordinator.posted_chunks(task_id, round, owner)]
    return PostedTree(root, layout, chunks)


def post_missing_chunks(coordinator: CoordinatorClient, task_id: int, round: int, owner: str,
                        tree: Callable[[], MerkleTree], *, sender: LocalAccount) -> int:
    """Post the chunks of ``owner``'s challenged input of ``round`` not yet on chain, if a challenge on it is
    open and its deadline has not passed; return how many were posted. ``tree`` builds the input's Merkle tree
    (only when there is something to post; a tree of another root posts nothing)."""
    challenge = coordinator.input_challenge(task_id, round, owner)
    if challenge.status != ChallengeStatus.OPEN or coordinator.chain.now() >= challenge.deadline:
        return 0
    built = tree()
    if built.root != challenge.root:
        return 0
    for index in range(challenge.chunks_posted, challenge.chunks):
        coordinator.post_chunk(task_id, round, owner, chunk_of(built, index), sender=sender)
    return challenge.chunks - challenge.chunks_posted


def answer_disputes(coordinator: CoordinatorClient, task_id: int, round: int, proposal: int, tree: MerkleTree, *,
                    sender: LocalAccount) -> list[str]:
    """Answer every dispute of proposal number ``proposal`` of ``round`` (whose tree ``tree`` is) that waits
    for an answer before its deadline: the disputed node's children, or at a leaf its words. Returns the
    challengers answered."""
    answered = []
    now = coordinator.chain.now()
    for challenger, dispute in coordinator.disputes(task_id, round).items():
        if dispute.status != DisputeStatus.AWAITING_ANSWER or dispute.proposal != proposal or now >= dispute.deadline:
            continue
        if tree.node(dispute.level, dispute.index) != dispute.node:
            continue  # not this tree's node: the dispute is about another proposal
        if dispute.level == 0:
            coordinator.open_leaf(task_id, challenger, tree.leaf_words(dispute.index), sender=sender)
        else:
            left, right = tree.children(dispute.level, dispute.index)
            coordinator.answer_dispute(task_id, challenger, left, right, sender=sender)
        answered.append(challenger)
    return answered


def current_steps(steps: Sequence[DisputeStep]) -> list[DisputeStep]:
    """The steps of a challenger's latest dispute: those from its last "opened" step on."""
    starts = [position for position, step in enumerate(steps) if step.kind == "opened"]
    return list(steps[starts[-1]:]) if starts else []


def differing_child(expected: MerkleTree, level: int, index: int, left: bytes, right: bytes) -> bool:
    """Whether to descend right from the answered node (``level``, ``index``): into the child that differs
    from ``expected`` (the left one when both do)."""
    want_left, _ = expected.children(level, index)
    return left == want_left


def opened_leaf(steps: Sequence[DisputeStep]) -> OpenedLeaf:
    """The leaf a dispute opened, with its path from the siblings its answers posted (``steps`` are the
    dispute's steps, :func:`current_steps`, ending with the opened leaf)."""
    if not steps or steps[-1].kind != "leaf":
        raise LayoutError("the dispute has not opened a leaf")
    siblings: dict[int, bytes] = {}
    answer: DisputeStep | None = None
    for step in steps:
        if step.kind == "answered":
            answer = step
        elif step.kind == "descended" and answer is not None:
            went_right = step.index & 1 == 1
            siblings[step.level] = answer.left if went_right else answer.right
    leaf = steps[-1]
    return OpenedLeaf(index=leaf.index, words=leaf.words, path=tuple(siblings[height] for height in sorted(siblings)))
