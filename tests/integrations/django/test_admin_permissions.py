"""The admin actions write, so they need the "change" permission; viewing does not give it."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.urls import path

from wsactions.contrib.django import conf
from wsactions.contrib.django.conf import get_config
from wsactions.contrib.django.models import Account as AccountRow
from wsactions.models import LoginRecord

pytestmark = pytest.mark.django_db

EMAIL = "ann@example.com"
CHANGELIST = "/admin/wsactions/account/"
ACTIONS = ("end_logins", "mark_verified")

urlpatterns = [path("admin/", admin.site.urls)]


@pytest.fixture(autouse=True)
def project(settings: Any) -> Iterator[None]:
    """This module is the project's URLconf."""
    settings.ROOT_URLCONF = __name__
    conf.reset()
    yield
    conf.reset()


@pytest.fixture
def account() -> AccountRow:
    """An unconfirmed account that is logged in once."""
    call_command("wsactions_create_account", EMAIL, stdout=io.StringIO())
    row = AccountRow.objects.get(email=EMAIL)
    storage = get_config().storage
    now = time.time()
    with storage.transaction():
        storage.logins.add_login(LoginRecord("login-1", row.account_id, now, now))
    return row


def staff(name: str, *codenames: str) -> Client:
    """A browser logged into the admin as a staff user with only these permissions."""
    user = get_user_model().objects.create_user(name, f"{name}@example.com", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="wsactions", codename__in=codenames)
    )
    client = Client()
    client.force_login(user)
    return client


def offered(client: Client) -> set[str]:
    """The actions the account changelist offers."""
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    form = response.context_data["action_form"]
    return set() if form is None else {value for value, _ in form.fields["action"].choices}


def logins_of(row: AccountRow) -> int:
    return len(get_config().storage.logins.list_logins(row.account_id))


def test_attack3_3_view_only_staff_cannot_run_admin_actions(account: AccountRow) -> None:
    """Finding 3: staff with only "view account" are not offered the actions, and posting
    them directly neither confirms the address nor ends the logins."""
    viewer = staff("viewer", "view_account")
    assert offered(viewer).isdisjoint(ACTIONS)
    for action in ACTIONS:
        viewer.post(CHANGELIST, {"action": action, "_selected_action": [account.seq]})
    assert not AccountRow.objects.get(email=EMAIL).verified
    assert logins_of(account) == 1


def test_attack3_3_change_permission_runs_admin_actions(account: AccountRow) -> None:
    """Finding 3: with "change account" the actions are offered and work; the change form
    stays read-only."""
    editor = staff("editor", "view_account", "change_account")
    assert offered(editor) >= set(ACTIONS)
    for action in ACTIONS:
        response = editor.post(CHANGELIST, {"action": action, "_selected_action": [account.seq]})
        assert response.status_code == 302
    assert AccountRow.objects.get(email=EMAIL).verified
    assert logins_of(account) == 0
    change = f"{CHANGELIST}{account.seq}/change/"
    assert editor.get(change).status_code == 200
    assert editor.post(change, {"email": "mallory@example.com"}).status_code == 403
    assert AccountRow.objects.get(seq=account.seq).email == EMAIL
