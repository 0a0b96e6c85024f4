"""Bounds of TaskParams that the contract's TaskParamsValidator enforces (docs/protocol.md §8.1), for the
configuration readers to name a bad key before anything is sent. The worst-case fraud-proof bound (§11.4)
is checked by the contract only; its error names ``cohortCap``."""

from typing import Final

MIN_WINDOW_SECONDS: Final = 10
"""Shortest window of any kind (commit, reveal, propose, challenge, availability)."""
MAX_BOUNTY_BPS: Final = 5_000
"""Largest share of a slash paid to whoever proved it."""
MIN_SLASH_BPS: Final = 1
"""Smallest missed-input, violation and aggregator slash: every proven fault costs something."""
