"""Storage backends: :mod:`~wsactions.backends.memory` (in-memory),
:mod:`~wsactions.backends.sql` (SQLite, PostgreSQL) and, for Django,
:mod:`wsactions.contrib.django.storage`. What every backend decides alike is
written once in :mod:`~wsactions.backends.rules`; a backend reads and writes."""

from __future__ import annotations

#: SQLSTATEs with which a database ends a transaction to resolve a conflict between
#: transactions (serialization failure, deadlock): running the unit of work again is safe.
CONFLICT_SQLSTATES = frozenset({"40001", "40P01"})


def is_conflict(error: BaseException) -> bool:
    """Whether the database error *error* (a driver's, or one wrapping it as SQLAlchemy's
    and Django's do) ended the transaction to resolve a conflict with another one."""
    seen: BaseException | None = error
    for _ in range(4):  # the driver's error sits at most a few wrappers deep
        if seen is None:
            return False
        state = getattr(seen, "sqlstate", None) or getattr(seen, "pgcode", None)
        if state is not None:
            return state in CONFLICT_SQLSTATES
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False
