"""Protocol core, contribution scores (docs/protocol.md section 12): score words and their median, the scores
commitment, and the reference scoring rule validators apply (no I/O: the loss is the caller's function)."""
