"""The requester: creates and funds a task from an initial model, evaluates every finalized model on its own
held-out data and publishes the metrics on chain (a ModelEvaluated event, docs/protocol.md section 8.10), and
withdraws what is left of the reward pool once the task has ended.

Any account may run it to evaluate and publish (a hospital with validation data, say); only the task's
requester withdraws the pool. The chain is its memory: a round it has published metrics for is not evaluated
again after a restart."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from eth_account.signers.local import LocalAccount

from fedchain.chain.audits import AuditParams
from fedchain.chain.coordinator import Coordinator, CoordinatorClient, FinalizedModel, TaskParams, TaskStatus, Token
from fedchain.chain.metrics import format_metrics
from fedchain.chain.scoring import ScoringParams
from fedchain.client.api import Client, Metrics, NDArrays, numeric_metrics
from fedchain.client.params import flatten, unflatten
from fedchain.commit.quantize import QuantizationSpec, dequantize, quantize_model
from fedchain.roles.agent import Agent
from fedchain.roles.task import MODEL_KIND, RoleError, fetch_model
from fedchain.storage import BlobStore, DataSpec, model_spec_hash, put_vector

MODEL_DTYPE = np.float32


@dataclass(frozen=True)
class Evaluation:
    """The requester's evaluation of the global model a round produced."""

    round: int
    loss: float
    num_examples: int
    metrics: Metrics


class Requester(Agent):
    """The owner of a task; ``evaluator`` (a :class:`~fedchain.client.Client`) holds its own validation data."""

    ROLE = "requester"

    def __init__(self, coordinator: CoordinatorClient, store: BlobStore, task_id: int, account: LocalAccount, *,
                 evaluator: Client | None = None) -> None:
        super().__init__(coordinator, store, task_id, account)
        self.evaluator = evaluator
        self.evaluations: list[Evaluation] = []

    @classmethod
    def create_task(cls, coordinator: CoordinatorClient, store: BlobStore, account: LocalAccount, *,
                    template: TaskParams, parameters: NDArrays, names: list[str] | None = None,
                    evaluator: Client | None = None, data: DataSpec | None = None,
                    scoring: ScoringParams | None = None, audits: AuditParams | None = None) -> Requester:
        """Quantize and upload the initial model, fund and create the task (a scored one, docs/protocol.md section
        12, with ``scoring``; an audited one, section 13, with ``audits``); return its requester.

        ``template`` gives every rule except ``num_params`` and ``model_spec_hash``, which come from the
        model and ``data``, the preprocessing the task declares (every model blob of the task carries it). The
        escrow ``num_rounds * reward_per_round`` is approved and pulled from ``account``.
        """
        if scoring is not None and not isinstance(coordinator, Coordinator):
            raise RoleError(f"only plain tasks are scored, and {coordinator.address} is a {coordinator.CONTRACT}")
        if audits is not None and (scoring is not None or not isinstance(coordinator, Coordinator)):
            raise RoleError(f"only plain tasks without scores are audited, and {coordinator.address} is a "
                            f"{coordinator.CONTRACT}" if scoring is None else "a task is scored or audited, not both")
        vector, shapes = flatten(parameters, names)
        quantized = quantize_model(vector, QuantizationSpec(scale_bits=template.scale_bits, clip=template.clip))
        stored = put_vector(store, quantized, kind=MODEL_KIND, scale_bits=template.scale_bits,
                            words_per_leaf=template.words_per_leaf, shapes=shapes, data=data)
        params = replace(template, num_params=int(quantized.size), model_spec_hash=model_spec_hash(stored.header))
        escrow = params.num_rounds * params.reward_per_round
        token = Token(coordinator.chain, params.token)
        if token.allowance(account.address, coordinator.address) < escrow:
            token.approve(coordinator.address, escrow, sender=account)
        if audits is not None:
            assert isinstance(coordinator, Coordinator)  # checked above, before anything was stored
            task_id = coordinator.create_audited_task(params, audits, stored.header.root, stored.ref, sender=account)
        elif scoring is None:
            task_id = coordinator.create_task(params, stored.header.root, stored.ref, sender=account)
        else:
            assert isinstance(coordinator, Coordinator)  # checked above, before anything was stored
            task_id = coordinator.create_scored_task(params, scoring, stored.header.root, stored.ref, sender=account)
        requester = cls(coordinator, store, task_id, account, evaluator=evaluator)
        created = "createAuditedTask" if audits is not None else "createTask" if scoring is None else "createScoredTask"
        requester.log(f"{created} {task_id}")
        return requester

    def step(self) -> None:
        """Evaluate every finalized model not evaluated yet and publish its metrics; after the task's end, withdraw
        the pool (the task's requester only)."""
        if self.in_flight():
            return
        state = self.coordinator.task_state(self.task_id)
        if state.status != TaskStatus.RUNNING and state.pool > 0 and state.requester == self.address:
            self.coordinator.withdraw_pool(self.task_id, sender=self.account)
            self.log(f"withdrawPool {self.tokens(state.pool)}", amount=state.pool)
        for model in self._unevaluated():
            rules = self.rules
            vector = dequantize(fetch_model(self.store, rules, model.root, model.blob_ref), rules.quantization)
            parameters = unflatten(vector, [(shape.name, shape.dims) for shape in rules.shapes], dtype=MODEL_DTYPE)
            assert self.evaluator is not None  # _unevaluated lists nothing without one
            loss, count, metrics = self.evaluator.evaluate(parameters, {})
            published = {name: value for name, value in {"loss": float(loss), **numeric_metrics(metrics)}.items()
                         if math.isfinite(value)}
            self.coordinator.publish_evaluation(self.task_id, model.round, published, sender=self.account)
            self.evaluations.append(Evaluation(round=model.round, loss=float(loss), num_examples=int(count),
                                               metrics=metrics))
            self.log(f"publishEvaluation {model.round}: {format_metrics(published)} on {count} examples",
                     round=model.round, metrics=published, examples=int(count))

    def finished(self) -> bool:
        """The task has ended, every finalized model is evaluated, and (the requester's) pool withdrawn."""
        state = self.coordinator.task_state(self.task_id)
        if state.status == TaskStatus.RUNNING:
            return False
        return not (state.pool > 0 and state.requester == self.address) and not self._unevaluated()

    def _unevaluated(self) -> list[FinalizedModel]:
        """The finalized models this agent has not published metrics for yet (none without an evaluator)."""
        if self.evaluator is None:
            return []
        done = {evaluation.round for evaluation in self.evaluations}
        done |= {evaluation.round for evaluation in self.coordinator.evaluations(self.task_id)
                 if evaluation.evaluator == self.address}
        return [model for model in self.coordinator.finalized_models(self.task_id) if model.round not in done]
