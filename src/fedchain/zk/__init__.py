"""Audited training: zero-knowledge proofs that an update is one step of the agreed training on committed data.

First increment of issue #15 (docs/architecture.md, "Audited training"): one SGD step of binary logistic
regression in EZKL's fixed-point arithmetic, proven with EZKL (Halo2, KZG on BN254) and verified in Python and
by EZKL's Solidity verifier in the EVM. The proof's public values bind what the chain holds: the global model
the step started from, the update it produced, and a Poseidon commitment to the private batch and its salt.

- `fedchain.zk.fixed`: the fixed-point arithmetic and the training step, pure numpy (what the hospital computes);
- `fedchain.zk.circuit`: the step's ONNX graph and EZKL's run arguments (pure);
- `fedchain.zk.proof`: the statement and its public instances, the circuit's artifacts (cached by the circuit's
  hash; the SRS is generated locally for testing only, see `fedchain.zk.proof.artifacts`), proving and native
  verification;
- `fedchain.zk.evm`: the Solidity verifier, compiled offline, deployed and called on a `fedchain.chain.Chain`.

Needs the ``zk`` extra (``pip install 'fedchain[zk]'``: ezkl and onnx); importing this package does not.
"""
