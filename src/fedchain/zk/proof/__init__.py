"""Proving with EZKL: the public statement, the circuit's artifacts (settings, keys, SRS) and proofs."""
