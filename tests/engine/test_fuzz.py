"""Property tests: any input to any action yields a documented result and a failure changes nothing.

Parametrized over every registered action, so the suite grows with the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies import (
    ACTION_NAMES,
    containers,
    form_fields,
    forms,
    log_in_member,
    queries,
    scalars,
)
from wsactions import ActionResult
from wsactions.codes import ENGINE_CODES
from wsactions.testing import Client, Harness


def documented(shop: Harness, client: Client, run: Callable[[], ActionResult | None]) -> None:
    """Run one request; its result uses documented codes and a failure changed nothing."""
    before_state = shop.state()
    before_session = dict(client.cookie)
    result = run()
    if result is None:  # a GET that names no action (or an opt-in link waiting for a POST)
        assert shop.state() == before_state
        assert dict(client.cookie) == before_session
        return
    assert isinstance(result, ActionResult)
    spec = shop.registry.get(result.name) if result.name else None
    allowed = ENGINE_CODES | set(spec.codes if spec is not None else ())
    assert result.codes <= allowed, f"{result.name}: undocumented {result.codes - allowed}"
    assert result.success is not result.error
    if result.success:
        assert result.errors == ()
        assert spec is not None
    else:
        assert result.errors
        assert result.redirect is None
        assert shop.state() == before_state
        assert dict(client.cookie) == before_session
    if spec is not None:
        names = {p.name for p in spec.params if p.secret and not p.prefix}
        prefixes = tuple(p.name for p in spec.params if p.secret and p.prefix)
        assert not any(key in names or key.startswith(prefixes) for key in result.params)


def shop_and_client(logged_in: bool) -> tuple[Harness, Client]:
    """A fresh shop and browser, logged in as a company admin when *logged_in*."""
    shop = Harness()
    client = shop.client()
    if logged_in:
        log_in_member(shop, client)
    return shop, client


@pytest.mark.parametrize("name", ACTION_NAMES)
@given(fields=form_fields(), container=containers, logged_in=st.booleans())
def test_authentic_form(
    name: str,
    fields: dict[Any, Any],
    container: Callable[[Mapping[Any, Any]], Mapping[Any, Any]],
    logged_in: bool,
) -> None:
    """A form with a valid wsact and wscsrf plus arbitrary fields runs the action body safely."""
    shop, client = shop_and_client(logged_in)
    handle = client.create(name)
    form = container({**fields, "wsact": handle.id, "wscsrf": handle.csrf})
    documented(shop, client, lambda: client.post(form))


@given(form=forms(), logged_in=st.booleans())
def test_raw_form(form: Mapping[Any, Any], logged_in: bool) -> None:
    """An arbitrary form, nothing filled in, yields documented codes only."""
    shop, client = shop_and_client(logged_in)
    client.create("SessionUpdate")  # the session has a CSRF binding to check against
    documented(shop, client, lambda: client.post(form))


@given(
    body=st.one_of(scalars, st.lists(scalars, max_size=3)).filter(lambda b: not isinstance(b, dict))
)
def test_not_a_mapping(body: Any) -> None:
    """A body that is not a mapping (JSON that is not an object) gets invalidParameter."""
    shop, client = shop_and_client(False)
    before = shop.state()
    result = client.post(body)
    assert result.codes == {"invalidParameter"}
    assert shop.state() == before


@pytest.mark.parametrize("name", ACTION_NAMES)
@given(fields=form_fields(), container=containers, logged_in=st.booleans())
def test_follow_named_action(
    name: str,
    fields: dict[Any, Any],
    container: Callable[[Mapping[Any, Any]], Mapping[Any, Any]],
    logged_in: bool,
) -> None:
    """A followed link naming the action with arbitrary fields yields documented codes only."""
    shop, client = shop_and_client(logged_in)
    client.create(name)
    query = container({**fields, "wsact": name})
    documented(shop, client, lambda: shop.registry.follow(client.context(), query))


@given(query=queries(), logged_in=st.booleans())
def test_follow_arbitrary_query(query: Mapping[Any, Any], logged_in: bool) -> None:
    """An arbitrary query yields None or documented codes only."""
    shop, client = shop_and_client(logged_in)
    documented(shop, client, lambda: shop.registry.follow(client.context(), query))
