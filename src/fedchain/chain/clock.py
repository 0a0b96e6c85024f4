"""The embedded chain's clock, which moves only when its user moves it, never with the machine's clock.

py-evm stamps each new block with the wall-clock time (or its parent's time plus one second, if later), so
on a slow machine a simulation's deadlines passed while an agent was still training, and a run with short
windows failed on one machine and passed on another. :class:`SimulatedClockBackend` stamps every block
exactly :data:`BLOCK_SECONDS` after its parent (the least the EVM allows: a block's time must exceed its
parent's); time moves further only by ``EthereumTester.time_travel`` (`Chain.advance_time`). The genesis
block keeps the wall-clock time of the chain's creation.
"""

from __future__ import annotations

from typing import Any, Final

from eth_tester import PyEVMBackend

BLOCK_SECONDS: Final = 1
"""The time between a block and its parent on the embedded chain, unless the clock is moved."""
COINBASE: Final = bytes(20)
"""Who mines the embedded chain's blocks (eth-tester's default: the zero address)."""


class SimulatedClockBackend(PyEVMBackend):  # type: ignore[misc]  # eth-tester is untyped
    """:class:`eth_tester.PyEVMBackend` whose next block is always :data:`BLOCK_SECONDS` after the latest."""

    def reset_to_genesis(self, *args: Any, **kwargs: Any) -> None:
        """Start from a fresh genesis block (eth-tester's semantics)."""
        super().reset_to_genesis(*args, **kwargs)
        self._stamp_next_block()

    def mine_blocks(self, num_blocks: int = 1, coinbase: bytes = COINBASE) -> tuple[Any, ...]:
        """Mine ``num_blocks`` blocks, each :data:`BLOCK_SECONDS` after its parent; return their hashes."""
        hashes: list[Any] = []
        for _ in range(num_blocks):
            hashes.extend(super().mine_blocks(1, coinbase))
            self._stamp_next_block()
        return tuple(hashes)

    def revert_to_snapshot(self, snapshot: Any) -> None:
        """Go back to the block ``snapshot`` names (eth-tester's semantics)."""
        super().revert_to_snapshot(snapshot)
        self._stamp_next_block()

    def _stamp_next_block(self) -> None:
        """py-evm has just opened the next block with the wall-clock time; give it its parent's time plus one."""
        parent = self.chain.get_canonical_head()
        self.chain.header = self.chain.header.copy(timestamp=parent.timestamp + BLOCK_SECONDS)
