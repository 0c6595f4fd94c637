"""Session actions: session variables, the payment lock and the page language."""

from __future__ import annotations

import re

from .._action import Call, Outcome, Param, action, fail, fail_all, ok
from .._result import ActionError
from ..i18n import offered_locales

_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")
_PREFIX = "session."


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
def session_update(call: Call[None]) -> Outcome:
    """Writes ``session.<key>`` values to session variables (an empty value removes one).

    Codes: ``invalidSessionVariable`` for no variable, a malformed, too long
    or (when the host restricts keys) not writable key, a too long value, or
    more variables than allowed. Nothing is written unless every variable is
    acceptable.
    """
    limits = call.settings.session
    writable = limits.writable_keys
    max_key, max_value = limits.max_key_length, limits.max_value_length
    updates: dict[str, str | None] = {}
    errors = []
    for name, value in call.params.items():
        if not name.startswith(_PREFIX):
            continue
        key = name[len(_PREFIX) :]
        if (
            len(key) > max_key
            or len(value) > max_value
            or not _KEY.fullmatch(key)
            or (writable is not None and key not in writable)
        ):
            errors.append(ActionError("invalidSessionVariable", name))
        updates[key] = value or None
    if errors:
        return fail_all(errors)
    if not updates:
        return fail("invalidSessionVariable", "session.")
    session = call.ctx.session
    for key, update in updates.items():
        if update is not None and session.get(key) is None:  # a new variable: count them
            kept = {k for k in session.variables() if updates.get(k, "") is not None}
            if len(kept | {k for k, v in updates.items() if v is not None}) > limits.max_keys:
                return fail("invalidSessionVariable", "session.")
            break
    session.set_variables(updates)
    return ok()


@action("SessionUnlock", family="session", uses_storage=False)
def session_unlock(call: Call[None]) -> Outcome:
    """Unlocks a session locked after a failed online payment; never fails."""
    call.ctx.session.unlock()
    return ok()


@action(
    "LanguageUpdate",
    family="session",
    params=[Param("locale", required=True, description="One of the shop's languages.")],
    codes=["invalidValue"],
)
def language_update(call: Call[None]) -> Outcome:
    """Shows the pages in another of the shop's languages (``Settings.locales``) and, for
    a logged-in customer, writes the account's mails in it too (an addition to the
    documented actions: the pack's language switcher).

    ``invalidValue`` for a language the shop does not offer.
    """
    locale = (call.get("locale") or "").replace("-", "_")
    if locale not in offered_locales(call.settings):
        return fail("invalidValue", "locale")
    call.ctx.session.set_locale(locale)
    account = call.account
    if account is not None and account.locale != locale:
        call.accounts.update_account(account.id, {"locale": locale})
    return ok()


ACTIONS = (session_update, session_unlock, language_update)
