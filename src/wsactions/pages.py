"""The template pack's pages, one table for every adapter (no framework imported here).

``PAGES`` maps a page's name to its path below the account area's prefix and
its template; ``GROUPS`` puts them into groups a shop offers or leaves out;
``OPTIN_PAGES`` names the page each mailed opt-in link lands on (the
purpose's ``Settings.optin_paths`` entry is built from it). A
:class:`PageTable` is what one shop serves: the groups it offers and its own
paths (``/konto/registrieren``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from .errors import ConfigurationError

#: name -> (path below the prefix, template).
PAGES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "account": ("", "wsactions/account.html"),
        "register": ("register", "wsactions/register.html"),
        "confirm": ("confirm", "wsactions/confirm.html"),
        "login": ("login", "wsactions/login.html"),
        "forgot": ("forgot", "wsactions/forgot.html"),
        "reset": ("reset", "wsactions/reset.html"),
        "email_confirm": ("email/confirm", "wsactions/email_confirm.html"),
        "delete_confirm": ("delete/confirm", "wsactions/delete_confirm.html"),
        "addresses": ("addresses", "wsactions/addresses.html"),
        "cards": ("cards", "wsactions/cards.html"),
        "security": ("security", "wsactions/security.html"),
        "session": ("session", "wsactions/session.html"),
        "guest": ("guest", "wsactions/guest.html"),
        "company": ("company", "wsactions/company.html"),
        "invitation": ("invitation", "wsactions/invitation.html"),
    }
)
#: group -> its pages. ``account`` (login, registration, the overview and the pages mailed
#: links open) is always served; the others are what a shop may leave out.
GROUPS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "account": (
            "account",
            "register",
            "confirm",
            "login",
            "forgot",
            "reset",
            "email_confirm",
            "delete_confirm",
        ),
        "addresses": ("addresses",),
        "cards": ("cards",),
        "security": ("security",),
        "guest": ("guest",),
        "company": ("company", "invitation"),
        "session": ("session",),
    }
)
#: The groups served when a shop names none: every group but ``session`` (a page for
#: developers: session variables and the payment lock).
DEFAULT_GROUPS = ("account", "addresses", "cards", "security", "guest", "company")
#: opt-in purpose -> the page its link lands on.
OPTIN_PAGES: Mapping[str, str] = MappingProxyType(
    {
        "activate": "confirm",
        "verify": "confirm",
        "password": "reset",
        "email_update": "email_confirm",
        "delete": "delete_confirm",
        "unlock": "login",
        "invitation": "invitation",
        "address": "addresses",
    }
)
_PATH = re.compile(r"(?:[\w-]+(?:/[\w-]+)*)?")


class PageTable:
    """The pages one shop serves: the *groups* it offers (``account`` always) and *paths*
    of its own for some pages (``{"register": "registrieren"}``), below *prefix*.

    Raises :class:`~wsactions.errors.ConfigurationError` for an unknown group or page,
    a malformed path, or two pages on one path.
    """

    def __init__(
        self,
        prefix: str = "/account",
        *,
        groups: Iterable[str] | None = None,
        paths: Mapping[str, str] | None = None,
    ) -> None:
        chosen = set(DEFAULT_GROUPS if groups is None else groups) | {"account"}
        unknown = chosen - set(GROUPS)
        if unknown:
            known = list(GROUPS)
            raise ConfigurationError(f"unknown page groups {sorted(unknown)}; known: {known}")
        own = dict(paths or {})
        if set(own) - set(PAGES):
            raise ConfigurationError(f"paths: unknown pages {sorted(set(own) - set(PAGES))}")
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self.groups = frozenset(chosen)
        self.pages: Mapping[str, tuple[str, str]] = MappingProxyType(
            {
                name: (own.get(name, path).strip("/"), template)
                for group in GROUPS
                if group in chosen
                for name in GROUPS[group]
                for path, template in [PAGES[name]]
            }
        )
        seen: dict[str, str] = {}
        for name, (path, _) in self.pages.items():
            if not _PATH.fullmatch(path):
                raise ConfigurationError(f"paths[{name!r}]: {path!r} is not a plain path")
            if path in seen:
                raise ConfigurationError(
                    f"pages {seen[path]!r} and {name!r} share the path {path!r}"
                )
            seen[path] = name

    def __contains__(self, name: object) -> bool:
        return name in self.pages

    def url(self, name: str) -> str:
        """The path of page *name* (with the prefix, without the host's script root)."""
        path = self.pages[name][0]
        return f"{self.prefix}/{path}" if path else f"{self.prefix}/"

    def optin_paths(self) -> dict[str, str]:
        """``Settings.optin_paths`` for the pages this shop serves."""
        return {
            purpose: self.url(page) for purpose, page in OPTIN_PAGES.items() if page in self.pages
        }
