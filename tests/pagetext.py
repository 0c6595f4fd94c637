"""What a page of the template pack shows, and the pack's English words that must not show
on a page in another language (shared by tests/test_pack_i18n.py and the browser journey).
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

#: Words of the pack's English that are not German: one of them on a German page is a
#: string that was not translated. (Words German shares, such as Budget, Login, Link,
#: Administrator, Browser, Name, Details, Demo, Limit, are not listed.)
ENGLISH_WORDS = re.compile(
    r"\b(?:the|your|you|and|of|to|with|please|here|yet|new|all|none|"
    r"password|address|addresses|email|save|delete|change|choose|remove|edit|"
    r"log|logged|register|create|send|confirm|request|forgot|open|unlock|locked|"
    r"shipping|billing|default|main|street|city|country|phone|postal|house|number|"
    r"first|last|state|province|required|type|role|active|deactivated|pending|"
    r"company|employee|employees|colleague|colleagues|shared|group|privilege|privileges|"
    r"payment|card|cards|ending|valid|until|strength|weak|fair|good|strong|very|"
    r"overview|language|session|note|order|spent|since|unknown|account|"
    r"sections|contact|display|current|repeat|where|invitation|outbox|skip|content|"
    r"guest|checkout|seeded|fail|finish|try|again|soon)\b",
    re.IGNORECASE,
)
#: Addresses and links are data, not the pack's words ("demo-company.example").
_DATA = re.compile(r"\S+@\S+|https?://\S+")
#: Not the pack's words either: identifiers (``<code>``: payment methods, field names) and
#: what a customer typed (``<textarea>``: a group's privileges as JSON).
_NOT_SHOWN = frozenset({"script", "style", "code", "textarea"})
#: Attributes a customer sees or hears.
_SHOWN_ATTRIBUTES = frozenset(
    {"aria-label", "title", "placeholder", "alt", "data-labels", "data-accepted", "data-rejected"}
)


class _Shown(HTMLParser):
    """The text a page shows (and says to assistive technology), without scripts, code
    and text fields."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.lang: str | None = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _NOT_SHOWN:
            self._skip += 1
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang")
        self.parts += [value or "" for name, value in attrs if name in _SHOWN_ATTRIBUTES]
        if tag == "input" and values.get("type") in ("submit", "button"):
            self.parts.append(values.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in _NOT_SHOWN:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def shown_text(html: str) -> tuple[str | None, str]:
    """The ``lang`` of a page and the text it shows, data (addresses, links) left out."""
    parser = _Shown()
    parser.feed(html)
    text = _DATA.sub(" ", unescape(" ".join(parser.parts)))
    return parser.lang, re.sub(r"\s+", " ", text)


def english_words(text: str) -> list[str]:
    """The pack's English words in *text*, each once, sorted."""
    return sorted({found.group(0) for found in ENGLISH_WORDS.finditer(text)})
