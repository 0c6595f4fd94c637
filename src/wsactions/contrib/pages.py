"""The template pack's pages: moved to :mod:`wsactions.pages` (this name stays for imports)."""

from __future__ import annotations

from ..pages import DEFAULT_GROUPS, GROUPS, OPTIN_PAGES, PAGES, PageTable

__all__ = ["DEFAULT_GROUPS", "GROUPS", "OPTIN_PAGES", "PAGES", "PageTable"]
