"""Bounds of the verified aggregation rules' parameters and inputs (docs/protocol.md §4)."""

from typing import Final

MAX_SAMPLE_CAP: Final = 2**20
MAX_SERVER_LR_BPS: Final = 100_000
BPS_DENOMINATOR: Final = 10_000
MAX_UPDATES: Final = 256
