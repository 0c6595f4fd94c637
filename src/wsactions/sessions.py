"""A :class:`~wsactions.protocols.Session` on top of any mutable mapping.

Flask's ``session``, Django's ``request.session`` or a plain ``dict`` all
work. Values are stored as strings under flat keys so that every session
serializer (JSON, signed cookies) can keep them:

* ``_wsa.*`` hold the engine's state (login, CSRF binding, lock flag, guest
  checkout, chosen language); no form parameter can reach them.
* ``wsv.<key>`` hold session variables (SessionUpdate, ``wsSession.get``).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from .models import GuestCheckout

_ACCOUNT = "_wsa.account"
_STAMP = "_wsa.stamp"
_LOGIN = "_wsa.login"
_RIGHTS = "_wsa.rights"
_BINDING = "_wsa.csrf"
_LOCK = "_wsa.lock"
_GUEST = "_wsa.guest"
_LOCALE = "_wsa.locale"
_PENDING = "_wsa.pending"
_CODE = "_wsa.code"
_CHALLENGE = "_wsa.passkey"
_VAR = "wsv."


class MappingSession:
    """Engine state and session variables kept in a host's session mapping.

    *cycle_id* is called whenever the session id must change (login, logout);
    pass the framework's own hook where it has one (Django:
    ``request.session.cycle_key``). A login is valid only while its record
    on the server exists (``login_secret`` names it), so Logout also ends a
    login in a signed cookie that was copied before (S21).
    """

    __slots__ = ("_cycle_id", "_data")

    def __init__(
        self,
        data: MutableMapping[str, Any] | None = None,
        *,
        cycle_id: Callable[[], None] | None = None,
    ) -> None:
        self._data: MutableMapping[str, Any] = {} if data is None else data
        self._cycle_id = cycle_id

    # login -------------------------------------------------------------
    @property
    def account_id(self) -> str | None:
        """The logged-in account's id, or ``None``."""
        value = self._data.get(_ACCOUNT)
        return value if isinstance(value, str) else None

    @property
    def security_stamp(self) -> str | None:
        """The account's security stamp recorded at login."""
        value = self._data.get(_STAMP)
        return value if isinstance(value, str) else None

    @property
    def login_secret(self) -> str | None:
        """The secret naming this session's login record on the server."""
        value = self._data.get(_LOGIN)
        return value if isinstance(value, str) else None

    def log_in(
        self, account_id: str, security_stamp: str, rights_stamp: str = "", login_secret: str = ""
    ) -> None:
        """Record a login after rotating the session id and CSRF binding."""
        self.rotate()
        self._data[_ACCOUNT] = account_id
        self._data[_STAMP] = security_stamp
        self._data[_RIGHTS] = rights_stamp
        self._data[_LOGIN] = login_secret
        self._data.pop(_GUEST, None)
        self._data.pop(_PENDING, None)
        self._data.pop(_CODE, None)
        self._data.pop(_CHALLENGE, None)

    @property
    def rights_stamp(self) -> str | None:
        """The account's rights stamp this session last saw."""
        value = self._data.get(_RIGHTS)
        return value if isinstance(value, str) else None

    def renew(self, rights_stamp: str) -> None:
        """Keep the login, rotate the session id and CSRF binding (the rights changed)."""
        self.rotate()
        self._data[_RIGHTS] = rights_stamp

    def log_out(self) -> None:
        """Forget the login and guest checkout; rotate the session id and CSRF binding."""
        self._data.pop(_ACCOUNT, None)
        self._data.pop(_STAMP, None)
        self._data.pop(_RIGHTS, None)
        self._data.pop(_LOGIN, None)
        self._data.pop(_GUEST, None)
        self._data.pop(_PENDING, None)
        self._data.pop(_CODE, None)
        self._data.pop(_CHALLENGE, None)
        self.rotate()

    # payment lock --------------------------------------------------------
    @property
    def is_locked(self) -> bool:
        """Whether the host locked the session."""
        return self._data.get(_LOCK) == "1"

    def lock(self) -> None:
        """Lock the session (the host calls this after a failed payment)."""
        self._data[_LOCK] = "1"

    def unlock(self) -> None:
        """Clear the lock."""
        self._data.pop(_LOCK, None)

    # second factor -------------------------------------------------------
    @property
    def pending_login(self) -> tuple[str, float, int] | None:
        """A login waiting for its second factor: (account id, until, wrong codes)."""
        value = self._data.get(_PENDING)
        if (
            isinstance(value, list | tuple)
            and len(value) == 3
            and isinstance(value[0], str)
            and isinstance(value[1], int | float)
            and isinstance(value[2], int)
        ):
            return value[0], float(value[1]), value[2]
        return None

    def set_pending_login(self, pending: tuple[str, float, int] | None) -> None:
        """Record (or with ``None`` forget) the login waiting for its second factor."""
        if pending is None:
            self._data.pop(_PENDING, None)
        else:
            self._data[_PENDING] = list(pending)

    @property
    def pending_code(self) -> tuple[str, float] | None:
        """A login code this browser asked for: (nonce, until)."""
        value = self._data.get(_CODE)
        if (
            isinstance(value, list | tuple)
            and len(value) == 2
            and isinstance(value[0], str)
            and isinstance(value[1], int | float)
        ):
            return value[0], float(value[1])
        return None

    def set_pending_code(self, pending: tuple[str, float] | None) -> None:
        """Record (or with ``None`` forget) the login code this browser asked for."""
        if pending is None:
            self._data.pop(_CODE, None)
        else:
            self._data[_CODE] = list(pending)

    @property
    def passkey_challenge(self) -> tuple[str, str, float] | None:
        """The passkey challenge this browser was given: (purpose, challenge, until)."""
        value = self._data.get(_CHALLENGE)
        if (
            isinstance(value, list | tuple)
            and len(value) == 3
            and isinstance(value[0], str)
            and isinstance(value[1], str)
            and isinstance(value[2], int | float)
        ):
            return value[0], value[1], float(value[2])
        return None

    def set_passkey_challenge(self, challenge: tuple[str, str, float] | None) -> None:
        """Record (or with ``None`` forget) the passkey challenge of this browser."""
        if challenge is None:
            self._data.pop(_CHALLENGE, None)
        else:
            self._data[_CHALLENGE] = list(challenge)

    def login_steps(self) -> dict[str, Any]:
        """The login steps under way (a pending login, a pending code, a passkey challenge)
        as plain JSON values, for a client that keeps them itself (the headless API's app
        client)."""
        return {
            "login": self._data.get(_PENDING),
            "code": self._data.get(_CODE),
            "passkey": self._data.get(_CHALLENGE),
        }

    def set_login_steps(self, steps: Mapping[str, Any]) -> None:
        """Take back what :meth:`login_steps` gave; values that are not well formed are
        dropped."""
        scratch = MappingSession(
            {
                _PENDING: steps.get("login"),
                _CODE: steps.get("code"),
                _CHALLENGE: steps.get("passkey"),
            }
        )
        self.set_pending_login(scratch.pending_login)
        self.set_pending_code(scratch.pending_code)
        self.set_passkey_challenge(scratch.passkey_challenge)

    # language ------------------------------------------------------------
    @property
    def locale(self) -> str | None:
        """The language this browser chose (LanguageUpdate), or ``None``."""
        value = self._data.get(_LOCALE)
        return value if isinstance(value, str) else None

    def set_locale(self, locale: str | None) -> None:
        """Record the language this browser chose (kept across login and logout)."""
        if locale is None:
            self._data.pop(_LOCALE, None)
        else:
            self._data[_LOCALE] = locale

    # variables -----------------------------------------------------------
    def get(self, key: str) -> str | None:
        """The session variable *key*, or ``None``."""
        value = self._data.get(_VAR + key)
        return value if isinstance(value, str) else None

    def variables(self) -> Mapping[str, str]:
        """All session variables."""
        return {
            k[len(_VAR) :]: v
            for k, v in self._data.items()
            if isinstance(k, str) and k.startswith(_VAR) and isinstance(v, str)
        }

    def set_variables(self, values: Mapping[str, str | None]) -> None:
        """Write several variables; ``None`` removes one."""
        for key, value in values.items():
            if value is None:
                self._data.pop(_VAR + key, None)
            else:
                self._data[_VAR + key] = value

    # CSRF binding ----------------------------------------------------------
    def csrf_binding(self, *, create: bool) -> str | None:
        """The random value CSRF tokens are bound to; made when *create* and absent."""
        value = self._data.get(_BINDING)
        if isinstance(value, str):
            return value
        if not create:
            return None
        value = secrets.token_urlsafe(18)
        self._data[_BINDING] = value
        return value

    def rotate(self) -> None:
        """New session id (through *cycle_id*) and a new CSRF binding."""
        if self._cycle_id is not None:
            self._cycle_id()
        self._data[_BINDING] = secrets.token_urlsafe(18)

    # guest checkout --------------------------------------------------------
    @property
    def guest_checkout(self) -> GuestCheckout | None:
        """The guest checkout recorded by the host, if any."""
        raw = self._data.get(_GUEST)
        if not isinstance(raw, str):
            return None
        try:
            data = json.loads(raw)
            return GuestCheckout(
                email=str(data["email"]),
                addresses=tuple(
                    {str(k): str(v) for k, v in a.items()} for a in data.get("addresses", ())
                ),
                display_name=str(data.get("display_name", "")),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def set_guest_checkout(self, checkout: GuestCheckout | None) -> None:
        """Record the guest checkout (email and addresses) of this session, or forget it."""
        if checkout is None:
            self._data.pop(_GUEST, None)
            return
        self._data[_GUEST] = json.dumps(
            {
                "email": checkout.email,
                "addresses": [dict(a) for a in checkout.addresses],
                "display_name": checkout.display_name,
            }
        )

    def clear(self) -> None:
        """Remove everything wsactions keeps in the session."""
        keys = list(self._data.keys())  # Django's session is a mapping, not iterable
        for key in [k for k in keys if isinstance(k, str) and k.startswith(("_wsa.", _VAR))]:
            del self._data[key]

    @property
    def data(self) -> MutableMapping[str, Any]:
        """The underlying mapping."""
        return self._data
