"""The storage contract as a pytest suite: run it against your own backend.

Every guarantee of :mod:`wsactions.protocols` is a test here, one module per
protocol: :mod:`.account_records`, :mod:`.address_book`, :mod:`.card_vault`,
:mod:`.company_directory`, :mod:`.token_store`, :mod:`.login_store`,
:mod:`.counter_store` and :mod:`.storage` (units of work, thread races,
process races, and :class:`StorageContract`, all of them). Subclass
:class:`StorageContract` in a test module of yours and give it a ``storage``
fixture::

    import functools

    import pytest

    from wsactions.testing.contract import Requirements, StorageContract

    class TestMyStorage(StorageContract):
        # what the backend can do (every flag is off unless turned on here)
        requirements = Requirements(process_safe=True)

        @pytest.fixture
        def storage(self):
            return MyStorage(...)            # fresh and empty for each test

        @pytest.fixture
        def storage_factory(self):
            # for process_safe: picklable, zero-argument, opens the data of ``storage``
            # (without clearing it)
            return functools.partial(MyStorage, url)

The tests use only the public API (the protocols, the models and
``Storage.snapshot()`` for "nothing changed"), never a backend's internals.
Thread races (16 threads released together) run against every backend;
process races (16 worker processes released together) only when the
class's :class:`Requirements` has ``process_safe``. The worker processes
are spawned once per test session and reused by every race; a race opens
the storage in each with ``storage_factory()`` and calls its ``close()``
afterwards, when it has one. The mixins (:class:`AccountRecordsContract`,
:class:`TokenStoreContract`, ...) test a partial backend; the names they
had before (:class:`AccountContract`, :class:`GroupContract`, ...) still
work, and so does ``process_safe = True`` as a class attribute.

This package imports pytest: import it from test code only. For failed
asserts to show their values, have pytest rewrite it: call
``pytest.register_assert_rewrite("wsactions.testing.contract")`` in your
``conftest.py`` before anything imports it.
"""

from __future__ import annotations

from ._races import RACE_TIMEOUT, RACERS
from ._records import Aborted
from .account_records import AccountRecordsContract
from .address_book import AddressBookContract
from .card_vault import CardVaultContract
from .company_directory import CompanyDirectoryContract
from .counter_store import CounterStoreContract
from .login_store import LoginStoreContract
from .requirements import Requirements, requires
from .storage import ConcurrencyContract, ProcessContract, StorageContract, TransactionContract
from .token_store import TokenStoreContract

__all__ = [
    "RACERS",
    "RACE_TIMEOUT",
    "Aborted",
    "AccountContract",
    "AccountRecordsContract",
    "AddressBookContract",
    "AddressContract",
    "CardContract",
    "CardVaultContract",
    "CompanyDirectoryContract",
    "ConcurrencyContract",
    "CounterContract",
    "CounterStoreContract",
    "GroupContract",
    "LoginContract",
    "LoginStoreContract",
    "ProcessContract",
    "Requirements",
    "StorageContract",
    "TokenContract",
    "TokenStoreContract",
    "TransactionContract",
    "requires",
]

# The names the mixins had before they were named after their protocols.
AccountContract = AccountRecordsContract
AddressContract = AddressBookContract
CardContract = CardVaultContract
GroupContract = CompanyDirectoryContract
TokenContract = TokenStoreContract
LoginContract = LoginStoreContract
CounterContract = CounterStoreContract
