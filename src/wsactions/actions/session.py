"""Session actions: session variables and the payment lock."""

from __future__ import annotations

import re

from .._action import Call, Outcome, Param, action, fail, fail_all, ok
from .._result import ActionError

_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")


@action(
    "SessionUpdate",
    family="session",
    params=[
        Param(
            "session.",
            required=True,
            prefix=True,
            description="Key and value of the session variable to set.",
        )
    ],
    codes=["invalidSessionVariable"],
    blocked_when_locked=True,
    uses_storage=False,
)
def session_update(call: Call) -> Outcome:
    """Writes ``session.<key>`` values to session variables (an empty value removes one).

    Codes: ``invalidSessionVariable`` for no variable, a malformed, too long
    or (when the host restricts keys) not writable key, a too long value, or
    more variables than allowed. Nothing is written unless every variable is
    acceptable.
    """
    limits = call.settings.session
    values = call.prefixed("session.")
    if not values:
        return fail("invalidSessionVariable", "session.")
    errors = [
        ActionError("invalidSessionVariable", "session." + key)
        for key, value in values.items()
        if not _KEY.fullmatch(key)
        or len(key) > limits.max_key_length
        or len(value) > limits.max_value_length
        or (limits.writable_keys is not None and key not in limits.writable_keys)
    ]
    if errors:
        return fail_all(errors)
    updates = {key: value or None for key, value in values.items()}
    session = call.ctx.session
    if any(v is not None and session.get(k) is None for k, v in updates.items()):
        kept = {k for k in session.variables() if updates.get(k, "") is not None}
        if len(kept | {k for k, v in updates.items() if v is not None}) > limits.max_keys:
            return fail("invalidSessionVariable", "session.")
    session.set_variables(updates)
    return ok()


@action("SessionUnlock", family="session", uses_storage=False)
def session_unlock(call: Call) -> Outcome:
    """Unlocks a session locked after a failed online payment; never fails."""
    call.ctx.session.unlock()
    return ok()


ACTIONS = (session_update, session_unlock)
