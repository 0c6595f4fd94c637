"""The contract of :class:`~wsactions.protocols.LoginStore`: server-side login records."""

# A test suite: plain asserts are what pytest reports.
# ruff: noqa: S101

from __future__ import annotations

import attrs

from ...protocols import Storage
from ._records import _ids, _login, _owners
from .requirements import CapabilityChecks

__all__ = ["LoginStoreContract"]


class LoginStoreContract(CapabilityChecks):
    """Server-side login records."""

    def test_logins_add_get_list(self, storage: Storage) -> None:
        """Logins are found by id and listed per account in creation order."""
        _owners(storage)
        storage.logins.add_login(_login(2, at=10.0))
        storage.logins.add_login(_login(1, at=20.0))
        storage.logins.add_login(_login(3, at=5.0))
        storage.logins.add_login(_login(4, "acc-2"))
        assert storage.logins.get_login("login-1") == _login(1, at=20.0)
        assert storage.logins.get_login("login-9") is None
        assert _ids(storage.logins.list_logins("acc-1")) == ["login-2", "login-1", "login-3"]
        assert list(storage.logins.list_logins("acc-2")) == [_login(4, "acc-2")]
        assert storage.logins.list_logins("acc-9") == []

    def test_get_login_account_in_one_read(self, storage: Storage) -> None:
        """get_login_account answers the login with its account, or None when the login is
        gone (also once its account was deleted)."""
        _owners(storage)
        storage.logins.add_login(_login(1, at=20.0))
        found = storage.logins.get_login_account("login-1")
        assert found is not None
        login, account = found
        assert login == _login(1, at=20.0)
        assert account == storage.accounts.get_account("acc-1")
        assert storage.logins.get_login_account("login-9") is None
        storage.accounts.delete_account("acc-1")
        assert storage.logins.get_login_account("login-1") is None

    def test_get_login_account_for_update_locks_the_account(self, storage: Storage) -> None:
        """Inside a unit of work the account is read for update: its fields as stored."""
        _owners(storage)
        storage.logins.add_login(_login(1))
        with storage.transaction():
            found = storage.logins.get_login_account("login-1", for_update=True)
            assert found is not None
            assert storage.accounts.update_account("acc-1", {"display_name": "Locked"})
        stored = storage.accounts.get_account("acc-1")
        assert stored is not None
        assert stored.display_name == "Locked"

    def test_touch_login(self, storage: Storage) -> None:
        """touch_login records the time of use and nothing else; unknown ids are ignored."""
        _owners(storage)
        storage.logins.add_login(_login(1, at=100.0))
        storage.logins.touch_login("login-1", 250.0)
        assert storage.logins.get_login("login-1") == attrs.evolve(
            _login(1, at=100.0), last_seen=250.0
        )
        storage.logins.touch_login("login-9", 300.0)
        assert storage.logins.get_login("login-9") is None

    def test_renew_proof(self, storage: Storage) -> None:
        """renew_proof records when and how the owner proved the login again, and nothing
        else; a new login counts as proven when it was created; unknown ids answer False."""
        _owners(storage)
        storage.logins.add_login(_login(1, at=100.0))
        assert storage.logins.get_login("login-1").proven == 100.0  # type: ignore[union-attr]
        assert storage.logins.renew_proof("login-1", 700.0, "totp")
        assert storage.logins.get_login("login-1") == attrs.evolve(
            _login(1, at=100.0), proven_at=700.0, proven_by="totp"
        )
        found = storage.logins.get_login_account("login-1")
        assert found is not None
        assert (found[0].proven, found[0].proven_by) == (700.0, "totp")
        assert not storage.logins.renew_proof("login-9", 700.0, "password")
        assert storage.logins.get_login("login-9") is None

    def test_end_login(self, storage: Storage) -> None:
        """end_login removes one login and says whether it existed."""
        _owners(storage)
        storage.logins.add_login(_login(1))
        storage.logins.add_login(_login(2))
        assert storage.logins.end_login("login-1")
        assert storage.logins.get_login("login-1") is None
        assert _ids(storage.logins.list_logins("acc-1")) == ["login-2"]
        assert storage.logins.end_login("login-1") is False

    def test_end_logins_keeps_one(self, storage: Storage) -> None:
        """end_logins removes the account's logins except *keep*; how many."""
        _owners(storage)
        for n in (1, 2, 3):
            storage.logins.add_login(_login(n))
        storage.logins.add_login(_login(4, "acc-2"))
        assert storage.logins.end_logins("acc-1", keep="login-2") == 2
        assert _ids(storage.logins.list_logins("acc-1")) == ["login-2"]
        assert storage.logins.get_login("login-4") == _login(4, "acc-2")
        assert storage.logins.end_logins("acc-1", keep="login-2") == 0

    def test_end_logins_all(self, storage: Storage) -> None:
        """end_logins without *keep* removes every login of the account only."""
        _owners(storage)
        for n in (1, 2):
            storage.logins.add_login(_login(n))
        storage.logins.add_login(_login(3, "acc-2"))
        assert storage.logins.end_logins("acc-1") == 2
        assert storage.logins.list_logins("acc-1") == []
        assert _ids(storage.logins.list_logins("acc-2")) == ["login-3"]
        assert storage.logins.end_logins("acc-9") == 0

    def test_snapshot_ignores_last_seen(self, storage: Storage) -> None:
        """touch_login does not change the snapshot; adding and ending logins do."""
        _owners(storage)
        storage.logins.add_login(_login(1))
        before = storage.snapshot()
        storage.logins.touch_login("login-1", 5000.0)
        assert storage.snapshot() == before
        storage.logins.add_login(_login(2))
        assert storage.snapshot() != before
        storage.logins.end_login("login-2")
        assert storage.snapshot() == before
        storage.logins.end_login("login-1")
        assert storage.snapshot() != before

    def test_sweep_removes_expired_logins_up_to_limit(self, storage: Storage) -> None:
        """sweep removes logins last seen or created before the cutoffs, at most *limit*."""
        _owners(storage)
        for n in range(1, 6):
            storage.logins.add_login(_login(n, at=100.0 * n))  # created 100 .. 500
        storage.logins.touch_login("login-1", 900.0)  # old, but seen lately
        storage.logins.add_login(_login(6, "acc-2", at=1000.0))
        assert storage.logins.sweep(350.0, 50.0, 1) == 1
        assert storage.logins.sweep(350.0, 50.0, 10) == 1  # login-2 and -3 were seen before
        assert _ids(storage.logins.list_logins("acc-1")) == ["login-1", "login-4", "login-5"]
        assert storage.logins.sweep(350.0, 150.0, 10) == 1  # login-1: created too long ago
        assert _ids(storage.logins.list_logins("acc-1")) == ["login-4", "login-5"]
        assert storage.logins.sweep(350.0, 150.0, 10) == 0
        assert _ids(storage.logins.list_logins("acc-2")) == ["login-6"]
