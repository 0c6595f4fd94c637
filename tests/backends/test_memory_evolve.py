"""The memory backend's record copy equals attrs.evolve for every stored record type."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from wsactions.backends.memory import _evolve
from wsactions.models import Account, Address, LoginRecord, PrivilegeGroup, Privileges

RECORDS = [
    (
        Account(id="a", email="ann@example.com", email_key="ann@example.com", customer_data={}),
        {"customer_data": {"phone": "1"}, "main_address_id": "x", "allowed_subshops": ["de"]},
    ),
    (
        Address(id="x", account_id="a", type="bill", fields={"city": "Köln"}),
        {"fields": {"city": "Bonn"}, "visibility": "company"},
    ),
    (
        LoginRecord(id="l", account_id="a", created_at=1.0, last_seen=1.0, client_address=""),
        {"last_seen": 61.0},
    ),
    (
        PrivilegeGroup(id="g", company_id="c", name="Buyers", privileges=Privileges()),
        {"spent": Decimal("12.50"), "type": "global"},
    ),
]


@pytest.mark.parametrize(("record", "changes"), RECORDS, ids=lambda r: type(r).__name__)
def test_evolve_equals_attrs_evolve(record: object, changes: dict[str, object]) -> None:
    """Same values, converters applied, the original untouched, the copy still frozen."""
    before = attrs.asdict(record)  # type: ignore[arg-type]
    copied = _evolve(record, **changes)
    assert copied == attrs.evolve(record, **changes)  # type: ignore[misc]
    assert type(copied) is type(record)
    assert attrs.asdict(record) == before  # type: ignore[arg-type]
    assert _evolve(record) == record
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        copied.id = "other"  # type: ignore[attr-defined]
