"""The contract package itself: its modules, capability flags and the names it had before."""

from __future__ import annotations

import pytest

from wsactions import protocols
from wsactions.testing import contract
from wsactions.testing.contract import Requirements, StorageContract, requires
from wsactions.testing.contract.requirements import requirements_of


def test_a_mixin_per_protocol() -> None:
    """Each store protocol has a mixin named after it, in a module named after it."""
    for name in (
        "AccountRecords",
        "AddressBook",
        "CardVault",
        "CompanyDirectory",
        "TokenStore",
        "LoginStore",
        "CounterStore",
    ):
        assert hasattr(protocols, name)
        mixin = getattr(contract, f"{name}Contract")
        module = "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
        assert mixin.__module__ == f"wsactions.testing.contract.{module}"
        assert issubclass(StorageContract, mixin)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("AccountContract", "AccountRecordsContract"),
        ("AddressContract", "AddressBookContract"),
        ("CardContract", "CardVaultContract"),
        ("GroupContract", "CompanyDirectoryContract"),
        ("TokenContract", "TokenStoreContract"),
        ("LoginContract", "LoginStoreContract"),
        ("CounterContract", "CounterStoreContract"),
    ],
)
def test_old_mixin_names_still_work(old: str, new: str) -> None:
    """The names the mixins had before are the same classes."""
    assert getattr(contract, old) is getattr(contract, new)


def test_flags_are_off_unless_declared() -> None:
    """A class that declares nothing has no capability."""

    class Plain(StorageContract):
        pass

    assert requirements_of(Plain) == Requirements()
    assert requirements_of(Plain).lacking(("process_safe",)) == ["process_safe"]


def test_requirements_declare_flags() -> None:
    """``requirements = Requirements(...)`` turns flags on."""

    class Shared(StorageContract):
        requirements = Requirements(process_safe=True)

    assert requirements_of(Shared).process_safe
    assert requirements_of(Shared).lacking(("process_safe",)) == []


def test_old_class_attribute_still_works() -> None:
    """``process_safe = True`` as a class attribute is the same as declaring the flag."""

    class Old(StorageContract):
        process_safe = True

    assert requirements_of(Old) == Requirements(process_safe=True)


def test_conflicting_declarations_refused() -> None:
    """A flag set differently as an attribute and in requirements is a usage error."""

    class Both(StorageContract):
        requirements = Requirements(process_safe=True)
        process_safe = False

    with pytest.raises(pytest.UsageError, match="keep only requirements"):
        requirements_of(Both)


def test_requires_refuses_unknown_flags() -> None:
    """A misspelt flag fails when the test is defined, naming the known flags."""
    with pytest.raises(TypeError, match="process_safe"):
        requires("proces_safe")
