"""Companies for hosts: make a customer account the owner of a B2B company.

A registration founds no company unless ``Settings.companies_on_registration``
is set (B2B-only shops): a B2C customer gets no company features. A shop
that sells to both decides per account, for example after checking a
business customer's VAT id::

    if wsactions.companies.found(storage, account.id):
        ...  # the account now administers its company: it may invite employees

Members join a company only by accepting an invitation themselves
(SubAccountCreate, then AcceptInvitation or the invitation's password link).
"""

from __future__ import annotations

from .protocols import Storage

__all__ = ["found"]


def found(storage: Storage, account_id: str) -> bool:
    """Make the account the owner and admin of a new company (its id is the account's);
    ``False`` when the account does not exist or already belongs to a company."""
    with storage.transaction():
        account = storage.accounts.get_account(account_id, for_update=True)
        if account is None or account.company_id is not None:
            return False
        return storage.accounts.update_account(
            account_id, {"company_id": account_id, "admin": True, "rights_stamp": account_id}
        )
