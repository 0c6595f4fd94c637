"""Steps several action families share: email and password checks, tokens, mails, limits."""

from __future__ import annotations

import hashlib
import itertools
import secrets
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .. import logins, optin, throttles
from .._action import Call, Outcome, fail
from .._result import ActionError
from ..i18n import mail_text, resolve_locale
from ..logins import login_id
from ..models import Account, LoginRecord, Mail, TokenRecord
from ..rights import MemberRights
from ..security import passwords
from ..security.emails import EmailAddress, context_words, parse_email
from ..security.tokens import hash_token
from ..settings import RateLimit, Settings


def new_id() -> str:
    """An opaque, unguessable identifier (128 bits)."""
    return secrets.token_urlsafe(16)


def not_editable(call: Call[Any], account: Account, fields: Iterable[str]) -> list[str]:
    """The *fields* *account*'s privilege group does not let it edit (see
    ``MemberRights.may_edit``); the group is read once, whatever the number of fields."""
    rights = MemberRights(call.accounts, account)
    if rights.group is None:  # nothing restricts the account
        return []
    return [field for field in fields if not rights.may_edit(field)]


def check_email(
    call: Call[Any], field: str, missing: str, errors: list[ActionError]
) -> EmailAddress | None:
    """The parsed address in *field*, or ``None`` after appending *missing* / emailCheckFailed."""
    raw = (call.get(field) or "").strip()
    if not raw:
        errors.append(ActionError(missing, field))
        return None
    address = parse_email(raw)
    if address is None:
        errors.append(ActionError("emailCheckFailed", field))
    return address


def password_context(call: Call[Any], *, email: str | None = None, name: str = "") -> list[str]:
    """Words a password must not be built from: email parts, display name, shop name."""
    words = context_words(email) if email else []
    words += [w for w in (name, *name.split()) if len(w) >= 3]
    if call.settings.shop_name:
        shop = call.settings.shop_name
        words += [w for w in (shop, *shop.split()) if len(w) >= 3]
    return words


#: The sub-codes of ``passwordCheckFailed`` on every path that sets a password
#: (``breached`` and ``breachCheckUnavailable``: with ``Settings.breached_passwords``).
PASSWORD_SUBCODES = ("minlen", "maxlen", "weak", "breached", "breachCheckUnavailable")


def check_new_password(
    call: Call[Any],
    field: str,
    repeat_field: str,
    errors: list[ActionError],
    context: Iterable[str],
) -> str | None:
    """The new password if present, repeated and within the policy; errors appended otherwise.

    Codes: ``missingPassword``, ``passwordMismatch``, ``passwordCheckFailed``
    (sub-codes ``minlen``, ``maxlen``, ``weak``; with screening on, ``breached`` and, in
    strict mode when the screening service cannot be asked, ``breachCheckUnavailable``).
    """
    password = call.get(field) or ""
    if not password:
        errors.append(ActionError("missingPassword", field))
        return None
    if call.get(repeat_field) != password:
        errors.append(ActionError("passwordMismatch", repeat_field))
    failures = passwords.policy_failures(password, call.settings.password_policy, context)
    if not failures:  # screened once it meets the policy (no request for a weak one)
        failures = breach_failures(call.settings, password)
    if failures:
        errors.append(ActionError("passwordCheckFailed", field, failures))
    return None if failures else password


def breach_failures(settings: Settings, password: str) -> tuple[str, ...]:
    """``("breached",)`` when ``Settings.breached_passwords`` knows *password*;
    ``("breachCheckUnavailable",)`` when it could not be asked and its mode is strict."""
    checker = settings.breached_passwords
    if checker is None:
        return ()
    verdict = checker.check(password)
    if verdict == "breached":
        return ("breached",)
    if verdict == "unknown" and checker.mode == "strict":
        return ("breachCheckUnavailable",)
    return ()


def hasher(call: Call[Any]) -> passwords.Hasher:
    """The password hasher for the configured argon2 parameters."""
    return passwords.hasher_for(call.settings.password_hashing)


def throttle(call: Call[Any], key: str, limit: RateLimit) -> int:
    """Hit counter *key* (record first, then decide); the count, ``limit.limit + 1`` when over.

    Only from a ``prepare`` step: counters are never written while the unit
    of work is open (a database would see a second writer).
    """
    if call.in_unit:
        raise RuntimeError("throttles are hit in an action's prepare step, not in its handler")
    return throttles.hit(call.counters, key, call.now, limit)


def mail_allowed(call: Call[Any], email_key: str, kind: str, *, per_client: bool = True) -> bool:
    """Count one mail of *kind* to *email_key* from this client; ``False`` at a limit.

    Limits (Settings ``mail_per_client``, then ``mail_per_address``) count
    every attempt, also for unknown addresses, so probing costs the same as
    use. A client over its own limit spends nothing of the address's. The
    per-address budget is kept per *kind* (``register``, ``activate``,
    ``password``, ``email_update``, ``delete``, ``invitation``, ``unlock``):
    strangers who spend an address's reset budget cannot stop its unlock
    mail, nor the other way round (L38). The unlock mail is not the
    client's mail (*per_client* false): it never spends a client's budget.
    """
    s = call.settings
    # Both hits in one short transaction: one commit (one flush of the log) for the two.
    with call.ctx.storage.transaction():
        if per_client:
            by_client = throttles.counter_key(s, "mail-client", call.ctx.request.client_address)
            if throttle(call, by_client, s.mail_per_client) > s.mail_per_client.limit:
                return False
        by_address = throttles.counter_key(s, "mail", kind, email_key)
        return throttle(call, by_address, s.mail_per_address) <= s.mail_per_address.limit


def new_account_fields(call: Call[Any], account_id: str) -> dict[str, Any]:
    """Company fields of a newly registered account: its own company only when the shop
    founds one for every registration (``Settings.companies_on_registration``)."""
    fields: dict[str, Any] = {"locale": request_locale(call)}
    if call.settings.companies_on_registration:
        fields.update(company_id=account_id, admin=True)
    return fields


def add_own_account(call: Call[Any], account: Account) -> bool:
    """Store the customer's own new account; ``False`` when its address has an account.

    A pending invitation never blocks the invitee's own registration (A36): it is
    withdrawn, and the invitee's account takes the address.
    """
    accounts = call.accounts
    if accounts.add_account(account):
        return True
    if not free_identity(call, account.email_key):
        return False
    return accounts.add_account(account)


def free_identity(call: Call[Any], email_key: str) -> bool:
    """Whether *email_key* is free once a pending invitation holding it is withdrawn."""
    accounts = call.accounts
    holder = accounts.find_account(email_key, for_update=True)
    if holder is None:
        return True
    if not holder.invitation_pending:
        return False
    accounts.delete_account(holder.id)
    return True


def own_account(account: Account | None) -> Account | None:
    """*account* unless it is a pending invitation (which answers like no account at all)."""
    return None if account is None or account.invitation_pending else account


#: One in this many logins (and opt-in tokens) a process makes also sweeps expired ones
#: after its commit, in a bounded batch: no table grows without a job to clean it.
SWEEP_EVERY = 64
_made = itertools.count(1)


def _sweep_now_and_then(call: Call[Any], sweep: Callable[[], object]) -> None:
    if next(_made) % SWEEP_EVERY == 0:
        call.after_commit(sweep)


def issue_token(call: Call[Any], account: Account, purpose: str, email: str | None = None) -> str:
    """Store a new opt-in token of *purpose* for *account* (revoking older ones); the token."""
    _sweep_now_and_then(call, lambda: optin.sweep(call.ctx.storage, call.now))
    return optin.issue(call.ctx, account.id, purpose, email=email)


def optin_link(call: Call[Any], purpose: str, token: str, action: str | None) -> str:
    """The link a mail carries: always built from ``settings.base_url``, never the request."""
    return optin.link(call.settings, purpose, token, action)


def send_mail(
    call: Call[Any],
    kind: str,
    to: str,
    link: str | None = None,
    *,
    account: Account | None = None,
    details: Mapping[str, str] | None = None,
) -> None:
    """Queue a mail of *kind* in the language of *account* (else of the request)."""
    settings = call.settings
    locale = resolve_locale(settings, account.locale if account else None, call.ctx.request.locale)
    text = mail_text(settings, locale, kind, email=to, link=link, details=details)
    call.send(
        Mail(
            to=to,
            subject=text.subject,
            text=text.text,
            html=text.html,
            purpose=kind,
            links=(link,) if link else (),
            locale=locale,
        )
    )


def request_locale(call: Call[Any]) -> str:
    """The language of this request (what a new account's mails are written in)."""
    return resolve_locale(call.settings, call.ctx.request.locale)


def mail_optin(
    call: Call[Any],
    account: Account,
    purpose: str,
    action: str | None,
    *,
    to: str | None = None,
    email: str | None = None,
    even_on_failure: bool = False,
    kind: str | None = None,
    details: Mapping[str, str] | None = None,
    with_code: bool = False,
) -> None:
    """Issue a token of *purpose* and mail its link (to the account's stored address by default)
    in a mail of *kind* (the purpose's own mail by default); *with_code* adds a typed code
    for this browser when the shop has ``Settings.optin_codes``.

    With *even_on_failure* both happen only if the action fails, after its
    rollback (the unlock mail of a login that just became blocked).
    """

    def issue_and_mail() -> None:
        token = issue_token(call, account, purpose, email)
        link = optin_link(call, purpose, token, action)
        extra = dict(details or {})
        if with_code and call.settings.optin_codes:
            extra.update(issue_optin_code(call, account, purpose))
        send_mail(
            call, kind or purpose, to or account.email, link, account=account, details=extra
        )

    if even_on_failure:
        call.on_failure(issue_and_mail)
    else:
        issue_and_mail()


def notify(call: Call[Any], account: Account, event: str) -> None:
    """Mail the owner a security notice (M45) once the action committed: what happened
    (``event``, one of :data:`wsactions.mails.NOTICE_EVENTS`), when (the shop's time
    zone), from which client address and browser, and a link that resets the password
    and ends every login. Budgeted per address (``mail_per_address``, kind ``notice``);
    never carries a secret."""

    def send() -> None:
        if not mail_allowed(call, account.email_key, "notice", per_client=False):
            return
        request = call.ctx.request
        zone = ZoneInfo(call.settings.timezone)
        when = datetime.fromtimestamp(call.now, zone).strftime("%Y-%m-%d %H:%M %Z")
        details = {
            "event": event,
            "when": when,
            "client": request.client_address or "-",
            "browser": request.user_agent or "-",
        }
        # The token is one statement on its own; the mail is rendered outside any transaction.
        mail_optin(call, account, "password", None, kind="security_notice", details=details)

    call.after_commit(send)


def login_counter(call: Call[Any], email_key: str) -> str:
    """The attempt counter key of a login identifier (Login and the current-password check)."""
    return throttles.counter_key(call.settings, "login", email_key)


def reset_login_counter(call: Call[Any], email_key: str) -> None:
    """Clear the login counter of *email_key* once the unit of work has committed."""
    key = login_counter(call, email_key)
    call.after_commit(lambda: call.counters.reset(key))


def start_login(call: Call[Any], account: Account, *, method: str = "password") -> None:
    """Create the server-side login record of *account* and log this session in to it;
    *method* is how the owner proved it (``password``, ``totp``, ``recovery``)."""
    secret = secrets.token_urlsafe(32)
    call.logins.add_login(
        LoginRecord(
            id=login_id(secret),
            account_id=account.id,
            created_at=call.now,
            last_seen=call.now,
            client_address=call.ctx.request.client_address,
            proven_at=call.now,
            proven_by=method,
        )
    )
    call.ctx.session.log_in(account.id, account.security_stamp, account.rights_stamp, secret)
    call.forget_account()
    _sweep_now_and_then(call, lambda: logins.sweep(call.ctx.storage, call.settings, call.now))


def end_session_login(call: Call[Any]) -> None:
    """End this session's login record (if any) and log the session out."""
    secret = call.ctx.session.login_secret
    if secret:
        call.logins.end_login(login_id(secret))
    call.ctx.session.log_out()
    call.forget_account()


# typed codes (login by code, codes beside mailed links) --------------------------------

#: The characters of a ``"letters"`` code, none that reads like another (no 0/O, 1/I/L,
#: 2/Z, 5/S, 8/B): 25 ** 8, about 1.5e11 codes.
_LETTERS = "ACDEFGHJKMNPQRTUVWXY34679"


def new_code(style: str) -> str:
    """A fresh code: six digits, or eight letters as ``ABCD-EFGH``."""
    if style == "letters":
        raw = "".join(secrets.choice(_LETTERS) for _ in range(8))
        return f"{raw[:4]}-{raw[4:]}"
    return f"{secrets.randbelow(10**6):06d}"


def normalized(code: str) -> str:
    """A typed code as stored: without spaces and hyphens, upper case (at most 32
    characters looked at)."""
    return "".join(c for c in code[:32] if c not in " -\t").upper()


def code_hash(nonce: str, code: str) -> str:
    """What the store keeps of a code: bound to the nonce of the browser that asked."""
    text = f"wsactions.login-code\x00{nonce}\x00{normalized(code)}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


#: Attempts one typed code survives (right or wrong, the next one is refused).
CODE_TRIES = 3


def code_attempt(call: Call[Any], label: str, lifetime: float) -> Outcome | str:
    """A prepare step for a typed ``code``: the nonce of this browser's pending code, after
    counting the attempt on the server (:data:`CODE_TRIES` per code: a replayed session
    gets none back); ``missingCode`` or ``invalidCode`` otherwise."""
    if not normalized(call.get("code") or ""):
        return fail("missingCode", "code")
    session = call.ctx.session
    pending = session.pending_code
    if pending is None or pending[1] < call.now:
        return fail("invalidCode", "code")
    key = throttles.counter_key(call.settings, label, pending[0])
    if throttle(call, key, RateLimit(limit=CODE_TRIES, window=lifetime)) > CODE_TRIES:
        session.set_pending_code(None)
        return fail("invalidCode", "code")
    return pending[0]


def optin_code_token(nonce: str, code: str) -> str:
    """The opt-in token a typed code stands for (its hash is what the store keeps): bound
    to the nonce of the browser that asked for the mail."""
    return f"code.{nonce}.{normalized(code)}"


def issue_optin_code(call: Call[Any], account: Account, purpose: str) -> dict[str, str]:
    """With ``Settings.optin_codes``: a code for *purpose* (``verify``, ``password``) beside
    the mailed link, bound to this browser (a nonce in the session), valid
    ``Settings.optin_code_lifetime``; the mail's details (``code``, ``minutes``)."""
    settings = call.settings
    nonce = secrets.token_urlsafe(24)
    code = new_code(settings.login_code_style)
    until = call.now + settings.optin_code_lifetime
    token_hash = hash_token(optin_code_token(nonce, code))
    if token_hash is None:  # pragma: no cover - always ASCII and short
        raise RuntimeError("a code token could not be hashed")
    call.tokens.add(TokenRecord(token_hash, f"code_{purpose}", account.id, call.now, until))
    call.ctx.session.set_pending_code((nonce, until))
    return {"code": code, "minutes": str(max(1, round(settings.optin_code_lifetime / 60)))}
