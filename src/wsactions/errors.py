"""Exceptions wsactions raises for programmer and configuration mistakes.

Business failures (a wrong password, an unknown address id) are never
exceptions: they are :class:`~wsactions.ActionResult` values with error
codes. The exceptions below mean the host or an action author must change
code or configuration::

    WsactionsError                 (base, never raised directly)
    ├── ConfigurationError         (also a ValueError)
    ├── ActionRegistrationError    (also a ValueError)
    │   └── UndeclaredCodeError
    ├── StoreError
    │   └── CardDataRefusedError   (also a ValueError)
    └── UnknownActionError         (also a KeyError)
"""

from __future__ import annotations


class WsactionsError(Exception):
    """Base class of every wsactions exception; never raised directly."""


class ConfigurationError(WsactionsError, ValueError):
    """Settings or a context are inconsistent; the message says what to fix."""


class ActionRegistrationError(WsactionsError, ValueError):
    """An action declaration is inconsistent (duplicate name, unknown access rule, ...)."""


class UndeclaredCodeError(ActionRegistrationError):
    """An action produced an error code its declaration does not list."""


class StoreError(WsactionsError):
    """A store was used against its contract."""


class CardDataRefusedError(StoreError, ValueError):
    """A saved card carried what looks like a full card number; only pseudonyms may be stored."""


class UnknownActionError(WsactionsError, KeyError):
    """A template or host named an action no registry entry has."""
