"""The contract of :class:`~wsactions.protocols.CounterStore`: bounded sliding-window
counters driven by explicit times, outside the snapshot."""

# A test suite: plain asserts are what pytest reports.
# ruff: noqa: S101

from __future__ import annotations

from ...protocols import Storage
from .requirements import CapabilityChecks

__all__ = ["CounterStoreContract"]


class CounterStoreContract(CapabilityChecks):
    """Bounded sliding-window counters driven by explicit times."""

    def test_hit_counts_within_window(self, storage: Storage) -> None:
        """hit() returns the count including itself; old events fall out of the window."""
        counters = storage.counters
        assert counters.hit("k", 0.0, 10, 100) == 1
        assert counters.hit("k", 5.0, 10, 100) == 2
        assert counters.count("k", 9.9, 10) == 2
        assert counters.count("k", 10.0, 10) == 1
        assert counters.hit("k", 12.0, 10, 100) == 2
        assert counters.count("k", 22.0, 10) == 0
        assert counters.count("never", 0.0, 10) == 0

    def test_full_key_records_nothing(self, storage: Storage) -> None:
        """With *limit* events in the window hit() answers limit + 1 and records nothing."""
        counters = storage.counters
        assert [counters.hit("k", 100.0 + i, 60, 3) for i in range(3)] == [1, 2, 3]
        assert counters.hit("k", 110.0, 60, 3) == 4
        assert counters.hit("k", 120.0, 60, 3) == 4
        assert counters.count("k", 120.0, 60) == 3
        # the refused hits were not recorded: the first events expire on time
        assert counters.count("k", 160.5, 60) == 2
        assert counters.hit("k", 160.5, 60, 3) == 3
        assert counters.count("k", 162.5, 60) == 1
        assert counters.hit("k", 162.5, 60, 3) == 2

    def test_window_expiry(self, storage: Storage) -> None:
        """When the window has passed a full key counts from one again."""
        for i in range(5):
            storage.counters.hit("k", float(i), 10, 5)
        assert storage.counters.hit("k", 5.0, 10, 5) == 6
        assert storage.counters.count("k", 100.0, 10) == 0
        assert storage.counters.hit("k", 100.0, 10, 5) == 1

    def test_keys_independent(self, storage: Storage) -> None:
        """Counters of different keys do not mix."""
        storage.counters.hit("a", 0.0, 10, 1)
        assert storage.counters.hit("b", 0.0, 10, 1) == 1
        assert storage.counters.hit("a", 0.0, 10, 1) == 2
        assert storage.counters.count("a", 0.0, 10) == 1
        assert storage.counters.count("b", 0.0, 10) == 1
        assert storage.counters.count("c", 0.0, 10) == 0

    def test_reset(self, storage: Storage) -> None:
        """reset() forgets a key's events only."""
        storage.counters.hit("a", 0.0, 10, 5)
        storage.counters.hit("a", 0.0, 10, 5)
        storage.counters.hit("b", 0.0, 10, 5)
        storage.counters.reset("a")
        assert storage.counters.count("a", 1.0, 10) == 0
        assert storage.counters.count("b", 1.0, 10) == 1
        assert storage.counters.hit("a", 1.0, 10, 5) == 1
        storage.counters.reset("never-used")

    def test_counters_not_in_snapshot(self, storage: Storage) -> None:
        """Counters are not part of the snapshot."""
        before = storage.snapshot()
        storage.counters.hit("k", 0.0, 10, 5)
        assert storage.snapshot() == before
