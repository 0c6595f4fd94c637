"""The template pack's pages, one table for every adapter (no framework imported here).

``PAGES`` maps a page's name to its path below the account area's prefix and
its template; ``OPTIN_PAGES`` names the page each mailed opt-in link lands on
(the purpose's ``Settings.optin_paths`` entry is built from it). The Flask
adapter serves them under ``/account`` (``wsactions.contrib.flask.PAGES``
holds them with a leading ``/``), the Django adapter under ``URL_PREFIX``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

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
        "session": ("session", "wsactions/session.html"),
        "guest": ("guest", "wsactions/guest.html"),
        "company": ("company", "wsactions/company.html"),
        "invitation": ("invitation", "wsactions/invitation.html"),
    }
)
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
