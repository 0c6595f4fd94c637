"""wsactions: the customer-account actions of a shop, for any Python web framework.

The host hands the engine a posted form; the engine runs the named action
against the host's storage and returns an :class:`ActionResult` that
templates render. See the README for a tour.

What this package exports, by who uses it:

* **a shop** (host code): :class:`Settings` and its parts, :func:`default_registry`,
  :class:`ActionRegistry`, :class:`Context`, :class:`RequestInfo`,
  :class:`MappingSession`, the mailers, :func:`current_account`,
  :class:`TemplateView` and :func:`json_answer`, and the host modules
  ``companies``, ``logins``, ``optin``, ``rights`` and ``i18n``;
  the web request cycle is :mod:`wsactions.web`, the adapters
  ``wsactions.contrib.flask`` and ``wsactions.contrib.django``;
* **an action's author**: :func:`action`, :class:`Param`, :class:`Access`,
  :class:`Call`, :class:`Outcome`, :func:`ok`, :func:`fail`, :func:`fail_all`;
* **a backend's author**: the value types (:class:`Account`, …), the
  protocols (:mod:`wsactions.protocols`), the shared rules
  (:mod:`wsactions.backends.rules`) and the contract suite
  (:mod:`wsactions.testing.contract`);
* **everyone**: :class:`ActionResult` and :class:`ActionError`, and the
  exceptions (:class:`WsactionsError` and below).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import logins
from ._action import (
    Access,
    ActionSpec,
    Call,
    Outcome,
    Param,
    action,
    fail,
    fail_all,
    ok,
)
from ._context import Context, RequestInfo, SystemClock
from ._registry import CONTROL_FIELDS, ActionRegistry
from ._result import ActionError, ActionHandle, ActionResult
from .actions import default_registry
from .errors import (
    ActionRegistrationError,
    CardDataRefusedError,
    ConfigurationError,
    StorageConflictError,
    StorageUnavailableError,
    StoreError,
    UndeclaredCodeError,
    UnknownActionError,
    WsactionsError,
)
from .events import ActionEvent, log_event
from .logins import current_account
from .mail import BackgroundMailer, ConsoleMailer, Mail, RecordingMailer, SmtpMailer
from .models import (
    Account,
    Address,
    GroupDeletion,
    GuestCheckout,
    LoginRecord,
    PrivilegeGroup,
    Privileges,
    SavedCard,
    TokenRecord,
)
from .sessions import MappingSession
from .settings import (
    PRODUCTION_HASHING,
    TESTING_HASHING,
    LoginLifetime,
    PasswordPolicy,
    RateLimit,
    SessionLimits,
    Settings,
    TokenLifetimes,
)

if TYPE_CHECKING:  # imported on first use (see __getattr__): not every host needs them
    from . import companies, i18n, optin, rights
    from .view import TemplateView, json_answer

#: Names imported on first use, and where from: a worker that never renders the template
#: view or asks a host module does not pay for importing them.
_LAZY = {
    "companies": ".companies",
    "i18n": ".i18n",
    "optin": ".optin",
    "rights": ".rights",
    "TemplateView": ".view",
    "json_answer": ".view",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'wsactions' has no attribute {name!r}")
    from importlib import import_module

    found = import_module(module, __name__)
    value = found if module == f".{name}" else getattr(found, name)
    globals()[name] = value
    return value

__all__ = [
    "CONTROL_FIELDS",
    "PRODUCTION_HASHING",
    "TESTING_HASHING",
    "Access",
    "Account",
    "ActionError",
    "ActionEvent",
    "ActionHandle",
    "ActionRegistrationError",
    "ActionRegistry",
    "ActionResult",
    "ActionSpec",
    "Address",
    "BackgroundMailer",
    "Call",
    "CardDataRefusedError",
    "ConfigurationError",
    "ConsoleMailer",
    "Context",
    "GroupDeletion",
    "GuestCheckout",
    "LoginLifetime",
    "LoginRecord",
    "Mail",
    "MappingSession",
    "Outcome",
    "Param",
    "PasswordPolicy",
    "PrivilegeGroup",
    "Privileges",
    "RateLimit",
    "RecordingMailer",
    "RequestInfo",
    "SavedCard",
    "SessionLimits",
    "Settings",
    "SmtpMailer",
    "StorageConflictError",
    "StorageUnavailableError",
    "StoreError",
    "SystemClock",
    "TemplateView",
    "TokenLifetimes",
    "TokenRecord",
    "UndeclaredCodeError",
    "UnknownActionError",
    "WsactionsError",
    "action",
    "companies",
    "current_account",
    "default_registry",
    "fail",
    "fail_all",
    "i18n",
    "json_answer",
    "log_event",
    "logins",
    "ok",
    "optin",
    "rights",
]
