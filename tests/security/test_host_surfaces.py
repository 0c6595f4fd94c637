"""Regression tests for the findings of attack run 3 (one or more per finding)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wsactions.backends.sql import StorageUnavailableError, migrate
from wsactions.cli import DATABASE_URL_ENV, main

# finding 9: database passwords on the command line -------------------------------------

SECRET = "s3cretpw"
#: Nothing listens on port 1: the connection is refused at once.
UNREACHABLE_WITH_PASSWORD = f"postgresql+psycopg://user:{SECRET}@127.0.0.1:1/x"


def test_attack3_9_db_upgrade_reads_the_url_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding 9: without URL, ``db upgrade`` and ``db current`` use WSACTIONS_DATABASE_URL."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    head = migrate.head()
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr() == (f"{head} (head: {head})\n", "")
    assert migrate.current(url) == head
    assert main(["db", "current"]) == 0
    assert capsys.readouterr() == (f"{head}\n", "")


@pytest.mark.parametrize("command", ["upgrade", "current"])
@pytest.mark.parametrize("given", ["argument", "environment"])
def test_attack3_9_password_of_an_unreachable_database_is_never_shown(
    command: str, given: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding 9: a server that does not answer is reported in one line without the
    password, whether the URL came as an argument or from the environment."""
    pytest.importorskip("psycopg")
    if given == "argument":
        monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
        argv = ["db", command, UNREACHABLE_WITH_PASSWORD]
    else:
        monkeypatch.setenv(DATABASE_URL_ENV, UNREACHABLE_WITH_PASSWORD)
        argv = ["db", command]
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("wsactions db: the database did not answer")
    assert err.count("\n") == 1
    assert SECRET not in out + err


def test_attack3_9_errors_quoting_the_url_mask_the_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding 9: an error that quotes the URL (or the bare password) shows ``***`` instead."""

    def failing(url: str, *args: object, **kwargs: object) -> None:
        raise StorageUnavailableError(f"cannot reach {url} (password {SECRET})")

    monkeypatch.setattr(migrate, "upgrade", failing)
    monkeypatch.setenv(DATABASE_URL_ENV, UNREACHABLE_WITH_PASSWORD)
    assert main(["db", "upgrade"]) == 1
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    assert err == (
        "wsactions db: cannot reach postgresql+psycopg://user:***@127.0.0.1:1/x (password ***)\n"
    )


@pytest.mark.parametrize(
    "url",
    [
        f"user:{SECRET}@127.0.0.1/x",  # no scheme: SQLAlchemy cannot parse it
        f"postgresql+psycopg://user:{SECRET}@127.0.0.1:port/x",  # a port that is no number
    ],
)
def test_attack3_9_unreadable_url_exits_2_without_echoing_it(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding 9: a URL SQLAlchemy cannot read is refused (status 2) without quoting it."""
    assert main(["db", "upgrade", url]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "wsactions db: the database URL cannot be read "
        "(expected sqlite:///shop.db or postgresql+psycopg://user@host/db)\n"
    )


def test_attack3_9_unknown_driver_is_one_line_without_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Finding 9: a driver that is not installed is reported in one line, not a traceback."""
    assert main(["db", "current", f"postgresql+nodriver://user:{SECRET}@127.0.0.1:1/x"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("wsactions db: ")
    assert err.count("\n") == 1
    assert SECRET not in err


@pytest.mark.parametrize("command", ["upgrade", "current"])
@pytest.mark.parametrize("environment", [None, ""])
def test_attack3_9_no_url_at_all_exits_2(
    command: str,
    environment: str | None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Finding 9: with neither URL nor WSACTIONS_DATABASE_URL the command says what to set."""
    if environment is None:
        monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    else:
        monkeypatch.setenv(DATABASE_URL_ENV, environment)
    assert main(["db", command]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"wsactions db {command}: no database URL: set WSACTIONS_DATABASE_URL "
        "(recommended) or give it as an argument\n"
    )


def test_attack3_9_help_recommends_the_environment(capsys: pytest.CaptureFixture[str]) -> None:
    """Finding 9: ``db upgrade --help`` names WSACTIONS_DATABASE_URL and why to prefer it."""
    with pytest.raises(SystemExit) as exit_info:
        main(["db", "upgrade", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "[URL]" in text
    assert "$WSACTIONS_DATABASE_URL" in text
    assert "shown to every user of the machine (ps)" in text


# finding 2: a next rendered by a page goes through the engine's redirect rules ---------


@pytest.mark.parametrize(
    "unsafe",
    [
        "/\t/evil.example/",
        "/\r/evil.example/",
        "/\n/evil.example/",
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "/x y",
        "",
        None,
    ],
)
def test_attack3_2_template_helper_target(unsafe: str | None) -> None:
    """Finding 2: ``wsActions.target(value, default)`` (the pages' only way to render a
    ``next``) gives *default* for what the engine would not redirect to, and keeps a
    same-site path or an allowed host."""
    from wsactions import RecordingMailer, Settings, TemplateView, default_registry
    from wsactions.backends.memory import MemoryStorage
    from wsactions.sessions import MappingSession

    settings = Settings(
        secret_key="attack3-finding2-secret-key-0123456789",
        base_url="https://shop.example",
        allowed_redirect_hosts=frozenset({"pay.example"}),
    )
    registry = default_registry(settings)
    ctx = registry.context(
        session=MappingSession({}), storage=MemoryStorage(), mailer=RecordingMailer()
    )
    target = TemplateView(registry, ctx).wsActions.target
    assert target(unsafe, "/account/") == "/account/"
    for good in ("/account/addresses?x=1", "https://shop.example/x", "https://pay.example/b"):
        assert target(good, "/account/") == good


# H48: every host-visible surface validates what it renders or follows -----------------------


@pytest.mark.parametrize("next_", ["/\t/evil.example/", "//evil.example", "/ok?x=1"])
def test_h48_a_rendered_next_passes_the_rules_of_a_followed_one(next_: str) -> None:
    """What ``wsActions.target`` lets a page render is exactly what the engine follows."""
    from wsactions.testing import Harness

    shop = Harness()
    client = shop.client()
    rendered = client.view().wsActions.target(next_, "/account/")
    followed = client.submit("SessionUpdate", {"session.x": "1"}, wstarget=next_).redirect
    assert rendered == (followed or "/account/")


def test_h48_the_demo_serves_only_its_own_host_names(tmp_path: Path) -> None:
    """A foreign Host (DNS rebinding) gets 400 from the demo; its own names are served."""
    pytest.importorskip("flask")
    from wsactions.contrib.demo import create_app

    client = create_app(tmp_path).test_client()
    assert client.get("/", headers={"Host": "evil.example:8000"}).status_code == 400
    assert client.get("/", headers={"Host": "127.0.0.1:8000"}).status_code == 200
