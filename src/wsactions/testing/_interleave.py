"""Deterministic interleavings: start a second request right after the first one's n-th read."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from . import Harness

T = TypeVar("T")
U = TypeVar("U")

_READS = ("get_", "find_", "list_", "count_")


class _Pause:
    """Counts the first thread's store reads and runs the second request after the n-th."""

    def __init__(self, nth: int, second: Callable[[], Any], wait: float) -> None:
        self.nth = nth
        self.reads = 0
        self.first: int | None = None
        self.second = second
        self.wait = wait
        self.thread: threading.Thread | None = None
        self.result: Any = None
        self.error: BaseException | None = None

    def after_read(self) -> None:
        if threading.get_ident() != self.first or self.thread is not None:
            return
        self.reads += 1
        if self.reads == self.nth:
            self.start()

    def start(self) -> None:
        def run() -> None:
            try:
                self.result = self.second()
            except BaseException as error:  # reported in the first thread
                self.error = error

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        # The second request either finishes, or waits for a lock the first holds:
        # then the first goes on after *wait* seconds and the second follows it.
        self.thread.join(self.wait)


class _Store:
    """A store whose reads report to a :class:`_Pause` once they returned."""

    def __init__(self, store: Any, pause: _Pause) -> None:
        self._store = store
        self._pause = pause

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if not name.startswith(_READS) or not callable(attribute):
            return attribute
        pause = self._pause

        def read(*args: Any, **kwargs: Any) -> Any:
            value = attribute(*args, **kwargs)
            pause.after_read()
            return value

        return read


class _Storage:
    """A storage whose account, token and login stores are wrapped in :class:`_Store`."""

    def __init__(self, storage: Any, pause: _Pause) -> None:
        self._storage = storage
        self.accounts = _Store(storage.accounts, pause)
        self.tokens = _Store(storage.tokens, pause)
        self.logins = _Store(storage.logins, pause)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._storage, name)


def interleave(
    shop: Harness,
    first: Callable[[], T],
    second: Callable[[], U],
    *,
    after_read: int = 1,
    wait: float = 0.1,
) -> tuple[T, U]:
    """Run *first*; right after its *after_read*-th store read returns, start *second*.

    *first* goes on once *second* has finished, or after *wait* seconds when
    *second* is waiting for a lock that *first* holds (as it should when
    both change the same record). When *first* reads fewer times, *second*
    runs after it. Both results, in order. A storage that keeps its units of
    work isolated leaves the effects of both in place for every
    *after_read*: that is what a test asserts.
    """
    pause = _Pause(after_read, second, wait)
    real = shop.storage
    shop.storage = _Storage(real, pause)
    pause.first = threading.get_ident()
    try:
        result = first()
    finally:
        shop.storage = real
    if pause.thread is None:
        pause.start()
    if pause.thread is not None:
        pause.thread.join()
    if pause.error is not None:
        raise pause.error
    return result, pause.result
