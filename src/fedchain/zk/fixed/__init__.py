"""Fixed-point arithmetic as EZKL's circuits compute it, and the training steps written in it (pure numpy, no I/O)."""
