"""Hypothesis strategies for arbitrary forms, and the shared bad-input data.

Forms mix the engine's control fields, every parameter name any registered
action declares (prefix parameters such as ``session.`` with random
suffixes) and random keys, with values of every shape a host might hand
over: text with NUL or lone surrogates, huge text, bytes (also non-UTF-8),
lists (with duplicates), empty lists and values of the wrong type. They come
in the three containers hosts use: a plain dict, a dict of lists and a
MultiDict with ``getlist``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from hypothesis import strategies as st

from wsactions import CONTROL_FIELDS, Account, default_registry
from wsactions.testing import Client, Harness

_BUILTINS = default_registry().actions
ACTION_NAMES: tuple[str, ...] = tuple(spec.name for spec in _BUILTINS)
SINGLE_PARAMS: tuple[str, ...] = tuple(
    sorted({p.name for spec in _BUILTINS for p in spec.params if not p.prefix})
)
PREFIX_PARAMS: tuple[str, ...] = tuple(
    sorted({p.name for spec in _BUILTINS for p in spec.params if p.prefix})
)

#: Values longer than the default ``max_value_length`` (100 000) and one just at it.
HUGE_VALUES = ("x" * 100_000, "x" * 100_001, "é" * 200_000)

#: ``wstarget`` values that must never become a redirect (C27): open redirects,
#: browser-repaired paths, control characters, non-ASCII, and the bad-URL vectors
#: of Django's ``url_has_allowed_host_and_scheme`` tests.
UNSAFE_TARGETS: tuple[str, ...] = (
    "https://evil.example",
    "https://evil.example/account",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/ok\x00",
    "/a\tb",
    "/\t/evil.example",
    "/a\nb",
    "/a b",
    "http://user@shop.example/",
    "https://shop.example@evil.example/",
    "https://shop.example:pw@evil.example/",
    "https:evil.example",
    "http:///evil.example",
    "/café",
    "https://shöp.example/",
    "https://shop.example.evil.example/",
    "https://evil.example#@shop.example",
    "https://evil.example?@shop.example",
    "https://shop.example:99999/",
    "ftp://shop.example/",
    "//shop.example/",
    "",
    # Django is_safe_url / url_has_allowed_host_and_scheme bad URLs
    "///example.com",
    "http:/\\/\\example.com",
    "\x08//example.com",
    "http://testserver\\@example.com",
    " //example.com",
    "http://\\\\www.example.com",
    "http://example.com",
    "http:///example.com",
    "https://example.com",
    "ftp://example.com",
    "\\\\example.com",
    "\\\\\\example.com",
    "/\\\\/example.com",
    "\\//example.com",
    "/\\/example.com",
    "\\/example.com",
    "/\\example.com",
    "http:/\\//example.com",
    "http:\\/example.com",
    "http:/\\example.com",
    'javascript:alert("XSS")',
    "\njavascript:alert(x)",
    "http://otherserver\\@example.com",
    "http:\\\\testserver\\@example.com",
    "http://testserver\\me:pass@example.com",
    "http:\\\\testserver\\confirm\\me@example.com",
    "http:999999999",
    "ftp:9999999999",
    "\n",
    "http://[2001:cdba:0000:0000:0000:0000:3257:9652/",
    "http://2001:cdba:0000:0000:0000:0000:3257:9652]/",
)


class MultiDict(Mapping[Any, Any]):
    """A minimal werkzeug-style MultiDict: ``[key]`` is the first value, ``getlist`` all."""

    def __init__(self, pairs: Iterable[tuple[Any, Any]] = ()) -> None:
        self._pairs = list(pairs)

    def __getitem__(self, key: Any) -> Any:
        for k, v in self._pairs:
            if k == key:
                return v
        raise KeyError(key)

    def __iter__(self) -> Iterator[Any]:
        return iter(dict.fromkeys(k for k, _ in self._pairs))

    def __len__(self) -> int:
        return len(dict.fromkeys(k for k, _ in self._pairs))

    def getlist(self, key: Any) -> list[Any]:
        """Every value of *key*, in order."""
        return [v for k, v in self._pairs if k == key]

    def __repr__(self) -> str:
        return f"MultiDict({self._pairs!r})"


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def as_plain_dict(fields: Mapping[Any, Any]) -> dict[Any, Any]:
    """The form as a plain dict (lists stay lists: a repeated field)."""
    return dict(fields)


def as_dict_of_lists(fields: Mapping[Any, Any]) -> dict[Any, list[Any]]:
    """The form as ``parse_qs`` returns it: every value a list."""
    return {key: _as_list(value) for key, value in fields.items()}


def as_multidict(fields: Mapping[Any, Any]) -> MultiDict:
    """The form as a werkzeug-style MultiDict."""
    return MultiDict((key, item) for key, value in fields.items() for item in _as_list(value))


CONTAINERS: tuple[Callable[[Mapping[Any, Any]], Mapping[Any, Any]], ...] = (
    as_plain_dict,
    as_dict_of_lists,
    as_multidict,
)
containers = st.sampled_from(CONTAINERS)

# keys ------------------------------------------------------------------------------
_suffixes = st.one_of(
    st.from_regex(r"[A-Za-z][A-Za-z0-9_.-]{0,12}", fullmatch=True),
    st.sampled_from(
        ["", "_wsa.account", "_wsa.csrf", "_wsa.lock", "1abc", "a b", "a\n", "k" * 65, "ä"]
    ),
    st.text(max_size=12),
)


def field_names() -> st.SearchStrategy[str]:
    """Control fields, declared parameter names (prefixes with suffixes) and random text."""
    options: list[st.SearchStrategy[str]] = [
        st.sampled_from(CONTROL_FIELDS),
        st.text(max_size=12),
    ]
    if SINGLE_PARAMS:
        options.append(st.sampled_from(SINGLE_PARAMS))
    if PREFIX_PARAMS:
        options.append(st.builds(str.__add__, st.sampled_from(PREFIX_PARAMS), _suffixes))
    return st.one_of(*options)


#: Any key a form may carry, a few of them not even text.
keys = st.one_of(field_names(), field_names(), st.integers(), st.binary(max_size=6))

# values ----------------------------------------------------------------------------
#: Any text, lone surrogates and NUL included.
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=30)

_action_names = st.sampled_from(ACTION_NAMES).flatmap(
    lambda name: st.sampled_from([name, name.lower(), name.upper()])
)

scalars: st.SearchStrategy[Any] = st.one_of(
    any_text,
    st.text(max_size=30),
    _action_names,
    st.sampled_from(["", "1", "a@example.com", "/account", "https://evil.example", "true"]),
    st.text(max_size=8).map(lambda s: s + "\x00"),
    st.sampled_from(["\ud800", "a\udfffb", "\udc80\udc80"]),
    st.binary(max_size=16),
    st.binary(max_size=8).map(lambda b: b + b"\xff"),  # never valid UTF-8
    st.text(max_size=16).map(str.encode),
    st.sampled_from(HUGE_VALUES),
    st.integers(),
    st.none(),
    st.booleans(),
    st.floats(),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
)

#: A field's value: one scalar, a list of them (also duplicated), or an empty list.
values: st.SearchStrategy[Any] = st.one_of(
    scalars,
    scalars,
    st.lists(scalars, max_size=3),
    scalars.map(lambda v: [v, v]),
    st.just([]),
    st.tuples(scalars),
)


def form_fields(max_size: int = 8) -> st.SearchStrategy[dict[Any, Any]]:
    """An arbitrary form as a dict of key to value (a list value is a repeated field)."""
    return st.dictionaries(keys, values, max_size=max_size)


@st.composite
def forms(draw: st.DrawFn, max_size: int = 8) -> Mapping[Any, Any]:
    """An arbitrary form in one of the three containers."""
    return draw(containers)(draw(form_fields(max_size)))


@st.composite
def queries(draw: st.DrawFn) -> Mapping[Any, Any]:
    """An arbitrary query of a followed link, mostly naming a registered action."""
    fields = draw(form_fields())
    if draw(st.booleans()):
        fields["wsact"] = draw(st.one_of(_action_names, values))
    return draw(containers)(fields)


unsafe_targets = st.sampled_from(UNSAFE_TARGETS)

# setup ------------------------------------------------------------------------------
MEMBER = Account(
    id="acc-member",
    email="member@example.com",
    email_key="member@example.com",
    display_name="Member",
    verified=True,
    security_stamp="stamp-member",
    company_id="company-1",
    admin=True,
)


def log_in_member(shop: Harness, client: Client) -> Account:
    """Store :data:`MEMBER` (a company admin) in *shop* and log *client* in as it."""
    shop.accounts.add_account(MEMBER)
    shop.log_in(client, MEMBER)
    return MEMBER


# valid addresses (fields without the ``address.`` prefix), shared by the address tests
DE = {
    "firstName": "Erika",
    "lastName": "Mustermann",
    "street": "Heidestraße",
    "houseNumber": "17",
    "zip": "51147",
    "city": "Köln",
    "country": "DE",
}
GB = {
    "firstName": "John",
    "lastName": "Smith",
    "street": "Baker Street",
    "houseNumber": "221b",
    "zip": "NW1 6XE",
    "city": "London",
    "country": "GB",
}
US = {
    "firstName": "Ann",
    "lastName": "O'Neil",
    "street": "Market St",
    "houseNumber": "1355",
    "zip": "94103",
    "city": "San Francisco",
    "state": "CA",
    "country": "US",
}
