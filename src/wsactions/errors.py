"""Exceptions wsactions raises for programmer and configuration mistakes.

Business failures (a wrong password, an unknown address id) are never
exceptions: they are :class:`~wsactions.ActionResult` values with error
codes. The exceptions below mean the host or an action author must change
code or configuration::

    WsactionsError                 (base, never raised directly)
    ├── ConfigurationError         (also a ValueError)
    │   └── SchemaError            (the database's schema is missing or outdated)
    ├── ActionRegistrationError    (also a ValueError)
    │   └── UndeclaredCodeError
    ├── StoreError                 (raised by a store)
    │   ├── CardDataRefusedError   (also a ValueError)
    │   └── StorageUnavailableError (the database is down or too slow: answer 503)
    │       └── StorageConflictError (a unit of work lost a deadlock or serialization check)
    └── UnknownActionError         (also a KeyError)
"""

from __future__ import annotations


class WsactionsError(Exception):
    """Base class of every wsactions exception; never raised directly."""


class ConfigurationError(WsactionsError, ValueError):
    """Settings or a context are inconsistent; the message says what to fix."""


class SchemaError(ConfigurationError):
    """The database's schema is missing or not the one this wsactions needs: migrate it
    (``wsactions db upgrade``, ``manage.py migrate``) before the shop starts."""


class ActionRegistrationError(WsactionsError, ValueError):
    """An action declaration is inconsistent (duplicate name, unknown access rule, ...)."""


class UndeclaredCodeError(ActionRegistrationError):
    """An action produced an error code its declaration does not list."""


class StoreError(WsactionsError):
    """A store refused what it was asked: it was used against its contract, or its
    database is in trouble; never raised directly."""


class CardDataRefusedError(StoreError, ValueError):
    """A saved card carried what looks like a full card number; only pseudonyms may be stored."""


class StorageUnavailableError(StoreError):
    """The database could not be reached or did not answer in time; nothing was kept.

    The only exception a database backend raises for database trouble: hosts
    answer it with 503 (Service Unavailable).
    """


class StorageConflictError(StorageUnavailableError):
    """The database ended a unit of work to resolve a conflict with another one (a
    deadlock, or a serialization failure); nothing of it was kept.

    The engine runs such a unit of work again (it keeps nothing outside the
    database before commit, so a second run is safe); only when every run
    lost does it reach the host, as the :class:`StorageUnavailableError` it is.
    """


class UnknownActionError(WsactionsError, KeyError):
    """A template or host named an action no registry entry has."""
