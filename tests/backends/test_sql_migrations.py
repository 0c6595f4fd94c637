"""The SQL backend's Alembic migrations and ``wsactions db``: SQLite files and PostgreSQL.

PostgreSQL runs in a database of its own per test (``CREATE DATABASE``, dropped
afterwards): the migrations take no schema name, so a fresh schema of the
shared test database cannot hold them.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.pool import NullPool

from sqlstores import POSTGRES_URL, require_postgres
from wsactions.backends.sql import SqlStorage, migrate, schema, upgrade
from wsactions.cli import main
from wsactions.errors import SchemaError, StorageUnavailableError
from wsactions.models import Account, Address, LoginRecord

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:9/test"  # nothing listens on port 9


def fresh_postgres_database() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped when the generator is closed."""
    require_postgres()
    name = f"wsa_migrate_{secrets.token_hex(6)}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            # template0 takes no connections, so nobody else can block the copy
            connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
        try:
            yield (
                sa.engine.make_url(POSTGRES_URL)
                .set(database=name)
                .render_as_string(hide_password=False)
            )
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shop.db'}"
    else:
        yield from fresh_postgres_database()


def revisions() -> list[str]:
    """Every shipped revision, oldest first."""
    script = ScriptDirectory.from_config(migrate.config("sqlite://"))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def schema_differences(url: str) -> list[object]:
    """What Alembic's autogenerate finds between the database and ``schema.metadata``."""
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"version_table": migrate.VERSION_TABLE}
            )
            return list(compare_metadata(context, schema.metadata))
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    """The tables of the database (in its default schema)."""
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


# migrations -------------------------------------------------------------------------------


def test_current_is_none_before_and_head_after_upgrade(url: str) -> None:
    """An empty database is at no revision; upgrade() brings it to head()."""
    assert migrate.current(url) is None
    upgrade(url)
    assert migrate.current(url) == migrate.head()
    assert migrate.head() == revisions()[-1]


def test_migrated_schema_matches_declared_tables(url: str) -> None:
    """After upgrade() to head, autogenerate finds no difference to schema.metadata."""
    upgrade(url)
    assert schema_differences(url) == []
    assert table_names(url) == {*schema.metadata.tables, migrate.VERSION_TABLE}


def test_downgrade_to_base_and_upgrade_again(url: str) -> None:
    """Downgrading to base removes every table; upgrading again rebuilds the same schema."""
    upgrade(url)
    migrate.downgrade(url, "base")
    assert migrate.current(url) is None
    assert table_names(url) <= {migrate.VERSION_TABLE}
    upgrade(url)
    assert migrate.current(url) == migrate.head()
    assert schema_differences(url) == []


def test_each_revision_upgrades_and_downgrades_one_step(url: str) -> None:
    """Every revision can be reached one step at a time, and left one step at a time."""
    shipped = revisions()
    assert shipped[:2] == ["0001", "0002"]
    for revision in shipped:
        upgrade(url, revision)
        assert migrate.current(url) == revision
    assert schema_differences(url) == []
    for previous in reversed([None, *shipped[:-1]]):
        migrate.downgrade(url, "-1")
        assert migrate.current(url) == previous
    assert table_names(url) <= {migrate.VERSION_TABLE}


# upgrading a database that holds data -------------------------------------------------------

_ACCOUNTS_0001 = sa.table(
    "wsa_accounts",
    *(
        sa.column(name)
        for name in (
            "id",
            "email",
            "email_key",
            "password_hash",
            "display_name",
            "active",
            "verified",
            "deactivated",
            "security_stamp",
            "rights_stamp",
            "created_at",
            "customer_data",
            "main_address_id",
            "default_bill_address_id",
            "default_delivery_address_id",
            "company_id",
            "admin",
            "privilege_group_id",
            "default_address_visibility",
            "allowed_subshops",
            "invitation_pending",
        )
    ),
)
_ADDRESSES_0001 = sa.table(
    "wsa_addresses",
    *(
        sa.column(name)
        for name in ("id", "account_id", "type", "fields", "visibility", "created_at")
    ),
)


def test_upgrade_from_0001_keeps_accounts_and_addresses(url: str) -> None:
    """Rows written at revision 0001 are intact after upgrading to head, and logins work."""
    upgrade(url, "0001")
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.insert(_ACCOUNTS_0001).values(
                    id="acc-1",
                    email="Old@Example.com",
                    email_key="old@example.com",
                    password_hash="$argon2id$not-a-real-hash",
                    display_name="Olga Old",
                    active=True,
                    verified=True,
                    deactivated=False,
                    security_stamp="stamp-1",
                    rights_stamp="rights-1",
                    created_at=1_700_000_000.5,
                    customer_data='{"shoe_size": "42"}',
                    main_address_id="addr-1",
                    default_bill_address_id="addr-1",
                    default_delivery_address_id=None,
                    company_id="acc-1",
                    admin=True,
                    privilege_group_id=None,
                    default_address_visibility="company",
                    allowed_subshops='["de", "fr"]',
                    invitation_pending=False,
                )
            )
            connection.execute(
                sa.insert(_ADDRESSES_0001).values(
                    id="addr-1",
                    account_id="acc-1",
                    type="private",
                    fields='{"city": "Berlin", "street": "Hauptstr. 1"}',
                    visibility="company",
                    created_at=1_700_000_001.0,
                )
            )
    finally:
        engine.dispose()

    upgrade(url)
    assert migrate.current(url) == migrate.head()
    storage = SqlStorage(url, timeout=5)
    try:
        expected = Account(
            id="acc-1",
            email="Old@Example.com",
            email_key="old@example.com",
            password_hash="$argon2id$not-a-real-hash",
            display_name="Olga Old",
            active=True,
            verified=True,
            deactivated=False,
            security_stamp="stamp-1",
            rights_stamp="rights-1",
            created_at=1_700_000_000.5,
            customer_data={"shoe_size": "42"},
            main_address_id="addr-1",
            default_bill_address_id="addr-1",
            company_id="acc-1",
            admin=True,
            default_address_visibility="company",
            allowed_subshops=frozenset({"de", "fr"}),
        )
        assert storage.accounts.get_account("acc-1") == expected
        assert storage.accounts.find_account("old@example.com") == expected
        assert storage.accounts.list_addresses("acc-1") == [
            Address(
                id="addr-1",
                account_id="acc-1",
                type="private",
                fields={"city": "Berlin", "street": "Hauptstr. 1"},
                visibility="company",
                created_at=1_700_000_001.0,
            )
        ]

        login = LoginRecord(
            id="login-1",
            account_id="acc-1",
            created_at=1_800_000_000.0,
            last_seen=1_800_000_000.0,
            client_address="203.0.113.10",
        )
        storage.logins.add_login(login)
        assert storage.logins.get_login("login-1") == login
        assert storage.logins.list_logins("acc-1") == [login]
        # the old rows' sequence goes on: a new account is stored next to the migrated one
        assert storage.accounts.add_account(
            Account(id="acc-2", email="new@example.com", email_key="new@example.com")
        )
        assert [a.id for a in storage.snapshot()["accounts"].values()] == ["acc-1", "acc-2"]
    finally:
        storage.close()


# the command line -------------------------------------------------------------------------


def test_cli_db_upgrade_and_current_print_the_revision(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``wsactions db upgrade URL`` and ``db current URL`` print the revision reached."""
    head = migrate.head()
    assert main(["db", "current", url]) == 0
    assert capsys.readouterr() == ("not migrated\n", "")

    assert main(["db", "upgrade", url, "--revision", "0001"]) == 0
    assert capsys.readouterr() == (f"0001 (head: {head})\n", "")
    assert main(["db", "current", url]) == 0
    assert capsys.readouterr() == ("0001\n", "")

    assert main(["db", "upgrade", url]) == 0
    assert capsys.readouterr() == (f"{head} (head: {head})\n", "")
    assert main(["db", "current", url]) == 0
    assert capsys.readouterr() == (f"{head}\n", "")
    assert schema_differences(url) == []


@pytest.mark.parametrize("command", [["upgrade"], ["upgrade", "--revision", "0001"], ["current"]])
def test_cli_unreachable_postgres_exits_1(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """An unreachable server: exit status 1, nothing on stdout, the reason on stderr."""
    pytest.importorskip("psycopg")
    assert main(["db", command[0], UNREACHABLE, *command[1:]]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("wsactions db: ")
    assert "Traceback" not in err
    assert err.endswith("\n")


@pytest.mark.parametrize("command", ["upgrade", "current"])
def test_cli_unreachable_postgres_reports_one_line(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unreachable server is reported in exactly one line on stderr."""
    pytest.importorskip("psycopg")
    assert main(["db", command, UNREACHABLE]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err


def test_upgrade_into_a_postgresql_schema() -> None:
    """``upgrade(url, schema=...)`` migrates tables of a schema of their own, which
    ``SqlStorage(url, schema=...)`` then uses."""
    require_postgres()
    name = f"wsa_mig_{secrets.token_hex(4)}"
    engine = sa.create_engine(POSTGRES_URL, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    try:
        upgrade(POSTGRES_URL, schema=name)
        assert migrate.current(POSTGRES_URL, schema=name) == migrate.head()
        storage = SqlStorage(POSTGRES_URL, schema=name)
        try:
            assert storage.accounts.add_account(Account(id="a", email="a@x.de", email_key="a@x.de"))
        finally:
            storage.close()
        with engine.connect() as connection:
            tables = connection.execute(
                sa.text("select table_name from information_schema.tables where table_schema = :s"),
                {"s": name},
            ).scalars()
            assert set(tables) == {t.name for t in schema.metadata.sorted_tables} | {
                migrate.VERSION_TABLE
            }
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        engine.dispose()


def test_schema_name_is_checked() -> None:
    """A schema name that is not a plain identifier is refused, never put into SQL."""
    require_postgres()
    with pytest.raises(ValueError, match="plain schema name"):
        upgrade(POSTGRES_URL, schema='x"; drop table y; --')


# the schema check when a storage is made -----------------------------------------------


def test_declared_revision_is_the_newest_migration() -> None:
    """``schema.REVISION`` (what SqlStorage checks for) names the newest migration."""
    assert migrate.head() == schema.REVISION


def test_storage_refuses_an_unmigrated_database(url: str) -> None:
    """A database without wsactions' tables is refused when the storage is made, with the
    command that migrates it (no 500 on the first form)."""
    with pytest.raises(SchemaError, match="wsactions db upgrade"):
        SqlStorage(url, timeout=5)


def test_storage_refuses_an_outdated_schema(url: str) -> None:
    """A database one migration behind is refused too; after upgrading it is served."""
    upgrade(url, revisions()[-2])
    with pytest.raises(SchemaError, match=f"revision {revisions()[-2]}"):
        SqlStorage(url, timeout=5)
    upgrade(url)
    storage = SqlStorage(url, timeout=5)
    try:
        assert storage.accounts.get_account("nobody") is None
    finally:
        storage.close()


def test_database_down_at_start_is_checked_on_first_use() -> None:
    """A database that does not answer when the storage is made does not stop the start;
    the schema is checked when it first answers (here: never, so the use is refused)."""
    storage = SqlStorage(UNREACHABLE, timeout=1)
    try:
        with pytest.raises(StorageUnavailableError):
            storage.accounts.get_account("nobody")
    finally:
        storage.close()


def test_schema_check_can_be_left_to_the_host(tmp_path: Path) -> None:
    """``check_schema=False`` makes no query when the storage is made."""
    storage = SqlStorage(f"sqlite:///{tmp_path / 'empty.db'}", check_schema=False)
    storage.close()
    assert not (tmp_path / "empty.db").exists() or (tmp_path / "empty.db").stat().st_size == 0
