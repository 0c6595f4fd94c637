"""Whole HTTP requests: wsactions' Flask and Django shops against Flask-Security-Too and
django-allauth, each under gunicorn, on SQLite and on PostgreSQL.

Install (once, into the environment that has wsactions; the peers are not dependencies)::

    pip install -e '.[flask,django,postgresql]' gunicorn flask-security-too \\
        flask-sqlalchemy flask-mailman django-allauth
    pip install py-spy          # only for --profile

Run by hand (Linux: the CPU times come from /proc)::

    python bench/bench_http.py                # SQLite and PostgreSQL: about 8 minutes
    python bench/bench_http.py --quick        # a few seconds per scenario: about 3 minutes
    python bench/bench_http.py --db sqlite --pair flask --profile

``WSACTIONS_TEST_POSTGRES`` names the PostgreSQL server (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``, as for the test suite); every system
gets a database of its own there (``bench_http_<system>_<pid>``), dropped at the end; the
SQLite files live in a temporary folder, removed at the end. Without a server, ``--db
sqlite``.

The four systems (small apps of our own, each configured the way its documentation says):
``bench/shops/ws_flask.py`` (``wsactions.contrib.flask.WsActions`` on ``SqlStorage``),
``bench/shops/ws_django.py`` (the app ``wsactions.contrib.django`` on ``DjangoStorage``),
``bench/peers/fst_app.py`` (Flask-Security-Too with Flask-SQLAlchemy and a minimal user
model) and ``bench/peers/allauth_app.py`` (django-allauth's account app). Each runs under
gunicorn with one sync worker pinned to one core (``os.sched_setaffinity``); this process,
the load generator, is pinned to the other core. Every request is a new connection
(gunicorn's sync worker closes each one; the client half-closes it as soon as the request
is sent, so the worker's lingering close never waits for the client), as many in flight as
``--concurrency`` (default 3, so the worker never waits for the next request).

Scenarios, pair by pair (wsactions Flask vs Flask-Security-Too, wsactions Django vs
allauth), interleaved: for each scenario, *rounds* rounds of A then B, each a fixed number
of requests sized in the warm-up to last about *seconds*:

- ``login page``: anonymous GET of the login page.
- ``login``: POST of the login form with the right password. Each POST is a new browser
  that fetched the page first (not timed), and posts its cookies and the form's CSRF
  tokens as a browser would; the answer is the redirect (not followed).
- ``own page``: GET of a page of the shop's own behind the system's ``login_required``
  (``Hello <email>``, the same three lines everywhere), logged in.
- ``account page``: GET of the system's own logged-in page: wsactions' account overview,
  Flask-Security-Too's change-password page, allauth's email page (not the same content:
  what each ships).
- ``register``: POST of the registration form (fetched first, not timed) with a new
  address; each system mails a confirmation link (double opt-in) to an in-memory outbox.
- ``address``: POST of wsactions' new-address form (logged in, ten per account); the peers
  have no address book, so wsactions alone.

Equal footing: password hashing is made cheap everywhere (wsactions and Flask-Security-Too:
argon2id t=1, m=8 KiB, p=1; allauth: Django's MD5 hasher; Flask-Security-Too's hash of the
address in its confirmation tokens: ``hex_md5`` instead of its default, a pure-Python
sha256_crypt of ~0.2 s), so that hashing does not hide the rest; rate limits that would
trip from one client address are raised, not removed (wsactions' ``mail_per_client``,
allauth's ``ACCOUNT_RATE_LIMITS``); no DNS look-up of an address's domain (wsactions does
none; Flask-Security-Too's is turned off); CSRF stays on everywhere; SQLite in WAL mode with
``synchronous=NORMAL`` for all; Django keeps its database connection (``CONN_MAX_AGE``).

Printed per scenario and system: requests per second (median of the rounds, and the
spread), the worker's CPU time per request (the delta of its ``/proc`` CPU time over the
requests: to be trusted even when the client is the bottleneck), on PostgreSQL also the
CPU time of its database backends per request, and the ratios wsactions/peer (req/s: above
1 is faster; CPU: below 1 is cheaper). Then per system the time from starting gunicorn to
the first 200 of the login page (median of restarts), the worker's resident memory after
the warm-up and at the end, how busy the worker's and the client's cores were (a worker
well below 100% waited: on PostgreSQL for its commits); the load average at the start and
the end. ``--profile`` adds a py-spy profile of the wsactions worker during the login, the
account-page and the own-page scenario: own time by package, the top functions, and
wsactions' functions with what they call.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.metadata
import itertools
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

BENCH = Path(__file__).resolve().parent
POSTGRES_URL = os.environ.get(
    "WSACTIONS_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PASSWORD = "correct horse battery staple 42"
LOGIN_ACCOUNTS = range(10, 100)  # the login scenario's accounts (0-9: the page sessions)
ADDRESS_ACCOUNTS = range(100, 500)  # ten new addresses each per use (at most 100 allowed)
SEEDED = 500
ADDRESSES_PER_ACCOUNT = 10
ADDRESS = {
    "type": "delivery",
    "address.firstName": "Erika",
    "address.lastName": "Mustermann",
    "address.street": "Heidestraße",
    "address.houseNumber": "17",
    "address.zip": "51147",
    "address.city": "Köln",
    "address.country": "DE",
}
SCENARIOS = ("login page", "login", "own page", "account page", "register", "address")
SUCCESS = b'class="alert alert-success"'  # the template pack's notice of a successful action


# --- the systems -------------------------------------------------------------------------


@dataclass(frozen=True)
class System:
    key: str
    label: str
    folder: str
    app: str  # gunicorn's application spec
    django: bool
    login_page: str
    login_fields: tuple[str, str]  # (address, password)
    account_page: str
    register_page: str
    register_fields: tuple[str, str, str]  # (address, password, repeated)
    register_ok: Callable[[Response], bool]
    account_ok: Callable[[Response], bool]
    addresses_page: str | None = None

    @property
    def module(self) -> str:
        return self.app.split(":")[0]


def _wsactions_notice(response: Response) -> bool:
    return response.status == 200 and SUCCESS in response.body


def _redirect(response: Response) -> bool:
    return response.status == 302


def _shows_address(response: Response) -> bool:  # not the page's "please log in" variant
    return response.status == 200 and b"@example.com" in response.body


WS_FLASK = System(
    key="ws_flask",
    label="wsactions Flask",
    folder="shops",
    app="ws_flask:create_app()",
    django=False,
    login_page="/account/login",
    login_fields=("id", "password"),
    account_page="/account/",
    register_page="/account/register",
    register_fields=("email", "password", "passwordRepeat"),
    register_ok=_wsactions_notice,
    account_ok=_shows_address,
    addresses_page="/account/addresses",
)
FST = System(
    key="fst",
    label="Flask-Security-Too",
    folder="peers",
    app="fst_app:create_app()",
    django=False,
    login_page="/login",
    login_fields=("email", "password"),
    account_page="/change",
    register_page="/register",
    register_fields=("email", "password", "password_confirm"),
    register_ok=_redirect,
    account_ok=lambda r: r.status == 200,  # a visitor is redirected to the login page
)
WS_DJANGO = System(
    key="ws_django",
    label="wsactions Django",
    folder="shops",
    app="ws_django:application",
    django=True,
    login_page="/account/login",
    login_fields=("id", "password"),
    account_page="/account/",
    register_page="/account/register",
    register_fields=("email", "password", "passwordRepeat"),
    register_ok=_wsactions_notice,
    account_ok=_shows_address,
    addresses_page="/account/addresses",
)
ALLAUTH = System(
    key="allauth",
    label="django-allauth",
    folder="peers",
    app="allauth_app:application",
    django=True,
    login_page="/accounts/login/",
    login_fields=("login", "password"),
    account_page="/accounts/email/",
    register_page="/accounts/signup/",
    register_fields=("email", "password1", "password2"),
    register_ok=lambda r: r.status == 302 and "confirm-email" in (r.header("location") or ""),
    account_ok=_shows_address,
)
PAIRS = {
    "flask": (WS_FLASK, FST, "Flask: wsactions (SqlStorage) vs Flask-Security-Too"),
    "django": (WS_DJANGO, ALLAUTH, "Django: wsactions (DjangoStorage) vs django-allauth"),
}
VERSIONS = (
    "wsactions",
    "flask",
    "flask-security-too",
    "flask-sqlalchemy",
    "sqlalchemy",
    "django",
    "django-allauth",
    "gunicorn",
    "psycopg",
)


# --- a small HTTP client: one connection per request, as gunicorn's sync worker wants -------


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def fetch(
    port: int,
    method: str,
    path: str,
    cookies: dict[str, str] | None = None,
    form: list[tuple[str, str]] | None = None,
) -> Response:
    """One request on a new connection (``Connection: close``), read to the end."""
    head = [
        f"{method} {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Accept: text/html",
        "Accept-Language: en",
        "Connection: close",
    ]
    if cookies:
        head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items()))
    body = b""
    if form is not None:
        body = urlencode(form).encode()
        head += [
            f"Origin: http://127.0.0.1:{port}",
            "Content-Type: application/x-www-form-urlencoded",
            f"Content-Length: {len(body)}",
        ]
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        # Half-close at once: gunicorn's close after the answer (RFC 9112 9.6) then finds the
        # client's FIN waiting, instead of waiting for this thread to wake up and send it.
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(262144):
            chunks.append(chunk)
    raw = b"".join(chunks)
    end = raw.index(b"\r\n\r\n")
    lines = raw[:end].decode("latin-1").split("\r\n")
    headers = [(k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:])]
    response = Response(int(lines[0].split(" ", 2)[1]), headers, raw[end + 4 :])
    if (response.header("transfer-encoding") or "").lower() == "chunked":
        response.body = _dechunk(response.body)
    return response


def _dechunk(data: bytes) -> bytes:
    out, at = [], 0
    while True:
        line_end = data.index(b"\r\n", at)
        size = int(data[at:line_end].split(b";")[0], 16)
        if size == 0:
            return b"".join(out)
        out.append(data[line_end + 2 : line_end + 2 + size])
        at = line_end + 2 + size + 2


def keep_cookies(cookies: dict[str, str], response: Response) -> None:
    """What a browser keeps of the response's Set-Cookie headers (deletions included)."""
    for key, value in response.headers:
        if key.lower() != "set-cookie":
            continue
        pair, *attributes = value.split(";")
        name, _, content = pair.strip().partition("=")
        if any(a.strip().lower() == "max-age=0" for a in attributes):
            cookies.pop(name, None)
        else:
            cookies[name] = content


class _Forms(HTMLParser):
    """The forms of a page: action and the fields a browser would submit."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str | None, list[tuple[str, str]]]] = []
        self._open = False
        self._submitted = False
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((a.get("action") or None, []))
            self._open, self._submitted = True, False
            return
        if not self._open:
            return
        fields = self.forms[-1][1]
        name = a.get("name")
        kind = a.get("type", "submit" if tag == "button" else "text").lower()
        if tag == "select" and name:
            self._select = name
            fields.append((name, ""))
        elif tag == "option" and self._select and "selected" in a:
            fields[-1] = (self._select, a.get("value", ""))
        elif tag == "textarea" and name:
            fields.append((name, ""))
        elif tag in ("input", "button") and name:
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "image"):  # the first button is the one clicked
                if self._submitted:
                    return
                self._submitted = True
            if kind not in ("reset", "button", "file"):
                fields.append((name, a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = False
        elif tag == "select":
            self._select = None


Form = tuple[dict[str, str], str, list[tuple[str, str]]]  # a browser's cookies, action, fields


def form_with(
    page: Response, names: tuple[str, ...], url: str
) -> tuple[str, list[tuple[str, str]]]:
    """(action, fields) of the page's first form that has every field of *names*."""
    parser = _Forms()
    parser.feed(page.text)
    for action, fields in parser.forms:
        if set(names) <= {name for name, _ in fields}:
            return action or url, fields
    raise RuntimeError(f"{url}: no form with the fields {names} (status {page.status})")


def fill(fields: list[tuple[str, str]], values: dict[str, str]) -> list[tuple[str, str]]:
    """The form's fields with *values* typed in."""
    out = [(name, values.get(name, value)) for name, value in fields]
    present = {name for name, _ in fields}
    return out + [(name, value) for name, value in values.items() if name not in present]


def run_parallel(tasks: list[Callable[[], Any]], concurrency: int) -> tuple[float, list[Any]]:
    """Run *tasks* with *concurrency* threads; (wall seconds, their results in order)."""
    results: list[Any] = [None] * len(tasks)
    errors: list[BaseException] = []
    counter = itertools.count()

    def work() -> None:
        try:
            while (i := next(counter)) < len(tasks):
                results[i] = tasks[i]()
        except BaseException as error:  # re-raised below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(min(concurrency, len(tasks)))]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return elapsed, results


# --- processes: CPU time and memory from /proc -----------------------------------------


def cpu_ns(pid: int) -> int:
    """CPU time of every thread of *pid* so far (ns, from schedstat); 0 when it is gone."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                total += int(Path(f"/proc/{pid}/task/{task}/schedstat").read_text().split()[0])
    except OSError:
        return 0
    return total


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- databases ---------------------------------------------------------------------------


class Databases:
    """A database per system: SQLite files in a temporary folder, or PostgreSQL databases."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.folder = Path(tempfile.mkdtemp(prefix="wsactions-bench-http-"))
        self.made: list[str] = []
        self._admin: Any = None
        if kind == "postgresql":
            import psycopg

            parts = urlsplit(POSTGRES_URL)
            plain = urlunsplit(parts._replace(scheme="postgresql"))
            self._admin = psycopg.connect(plain, autocommit=True)

    def url(self, system: System) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.folder / system.key}.db"
        name = f"bench_http_{system.key}_{os.getpid()}"
        if name not in self.made:
            self._admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            self._admin.execute(f'CREATE DATABASE "{name}"')
            self.made.append(name)
        return urlunsplit(urlsplit(POSTGRES_URL)._replace(path="/" + name))

    def backend_cpu_ns(self, url: str) -> dict[int, int]:
        """CPU time of each PostgreSQL backend connected to *url*'s database (same machine)."""
        if self.kind != "postgresql":
            return {}
        name = urlsplit(url).path[1:]
        rows = self._admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,)
        ).fetchall()
        return {pid: cpu_ns(pid) for (pid,) in rows}

    def close(self) -> None:
        for name in self.made:
            self._admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if self._admin is not None:
            self._admin.close()
        shutil.rmtree(self.folder, ignore_errors=True)


# --- a system under gunicorn -------------------------------------------------------------


@dataclass
class Sample:
    seconds: float
    requests: int
    worker_ns: int
    db_ns: int
    client_ns: int
    failures: int


@dataclass
class Server:
    system: System
    url: str
    env: dict[str, str]
    cpu: int | None
    log: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    worker: int = 0
    startups: list[float] = field(default_factory=list)
    rss_warm: float = 0.0
    sessions: list[dict[str, str]] = field(default_factory=list)
    registered: Iterator[int] = field(default_factory=itertools.count)
    address_uses: Iterator[int] = field(default_factory=itertools.count)

    def setup(self) -> None:
        """The schema and the seeded accounts (bench<i>@example.com, confirmed)."""
        cwd = BENCH / self.system.folder
        script = f"{self.system.module}.py"
        if self.system.django:  # --skip-checks: wsactions.E009 refuses to migrate a new db
            run = [sys.executable, script, "migrate", "-v0", "--skip-checks"]
            subprocess.run(run, cwd=cwd, env=self.env, check=True)  # noqa: S603
        seed = [sys.executable, script, "seed", str(SEEDED)]
        subprocess.run(seed, cwd=cwd, env=self.env, check=True)  # noqa: S603

    def start(self) -> None:
        """Start gunicorn; the time until its first 200 joins :attr:`startups`."""
        self.port = free_port()
        cpu = self.cpu

        def pin() -> None:
            if cpu is not None:
                os.sched_setaffinity(0, {cpu})

        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers=1",
            "--worker-class=sync",
            f"--bind=127.0.0.1:{self.port}",
            "--timeout=120",
            f"--error-logfile={self.log}",
            *_gunicorn_extra(),
            self.system.app,
        ]
        start = time.perf_counter()
        self.process = subprocess.Popen(  # noqa: S603
            command, cwd=BENCH / self.system.folder, env=self.env, preexec_fn=pin
        )
        while True:
            try:
                response = fetch(self.port, "GET", self.system.login_page)
            except (ConnectionRefusedError, ConnectionResetError):
                if self.process.poll() is not None:
                    log = self.log.read_text()[-3000:]
                    failed = f"{self.system.label} did not start; gunicorn's log ends:\n{log}"
                    raise RuntimeError(failed) from None
                time.sleep(0.002)
                continue
            if response.status != 200:
                raise RuntimeError(f"{self.system.label}: login page {response.status}")
            break
        self.startups.append(time.perf_counter() - start)
        master = self.process.pid
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        self.worker = int(children[0])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    # browsers ---------------------------------------------------------------------------

    def browse(
        self, page: str, names: tuple[str, ...], cookies: dict[str, str] | None = None
    ) -> Form:
        """A browser (new, or with *cookies*) that opened *page*: (cookies, action, fields)."""
        cookies = {} if cookies is None else cookies
        response = fetch(self.port, "GET", page, cookies)
        keep_cookies(cookies, response)
        action, fields = form_with(response, names, page)
        return cookies, action, fields

    def login_post(self, opened: Form, email: str) -> Callable[[], Response]:
        cookies, action, fields = opened
        address, password = self.system.login_fields
        form = fill(fields, {address: email, password: PASSWORD})
        return lambda: fetch(self.port, "POST", action, cookies, form)

    def logged_in(self, email: str) -> dict[str, str]:
        opened = self.browse(self.system.login_page, self.system.login_fields)
        response = self.login_post(opened, email)()
        if not login_ok(response):
            raise RuntimeError(f"{self.system.label}: login of {email} failed ({response.status})")
        keep_cookies(opened[0], response)
        return opened[0]


@functools.cache
def _gunicorn_extra() -> list[str]:
    """Newer gunicorns open a control socket, at one path for every server: none here."""
    command = [sys.executable, "-m", "gunicorn", "--help"]
    usage = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    return ["--no-control-socket"] if "--no-control-socket" in usage else []


def login_ok(response: Response) -> bool:
    return response.status in (302, 303) and "login" not in (response.header("location") or "")


def tasks_for(
    scenario: str, server: Server, count: int, concurrency: int
) -> tuple[list[Callable[[], Response]], Callable[[Response], bool]]:
    """The requests of one burst of *scenario* (prepared, not yet sent) and their check."""
    system, port = server.system, server.port
    if scenario == "login page":
        return [lambda: fetch(port, "GET", system.login_page)] * count, _ok200
    if scenario in ("own page", "account page"):
        if not server.sessions:
            made = [
                lambda i=i: server.logged_in(f"bench{i}@example.com") for i in range(concurrency)
            ]
            server.sessions = run_parallel(made, concurrency)[1]
        path = "/private" if scenario == "own page" else system.account_page
        sessions = itertools.islice(itertools.cycle(server.sessions), count)
        tasks = [lambda c=c: fetch(port, "GET", path, c) for c in sessions]
        return tasks, system.account_ok if scenario == "account page" else _hello
    if scenario == "login":
        accounts = itertools.cycle(LOGIN_ACCOUNTS)
        opens = [lambda: server.browse(system.login_page, system.login_fields)] * count
        opened = run_parallel(opens, concurrency)[1]
        tasks = [server.login_post(o, f"bench{next(accounts)}@example.com") for o in opened]
        return tasks, login_ok
    if scenario == "register":
        opens = [lambda: server.browse(system.register_page, system.register_fields)] * count
        opened = run_parallel(opens, concurrency)[1]
        address, password, repeated = system.register_fields
        tasks = []
        for cookies, action, fields in opened:
            email = f"r{RUN}-{system.key}-{next(server.registered)}@example.com"
            form = fill(fields, {address: email, password: PASSWORD, repeated: PASSWORD})
            tasks.append(lambda c=cookies, a=action, f=form: fetch(port, "POST", a, c, f))
        return tasks, system.register_ok
    if scenario == "address":
        assert system.addresses_page is not None
        page = system.addresses_page
        accounts = [
            ADDRESS_ACCOUNTS[next(server.address_uses) % len(ADDRESS_ACCOUNTS)]
            for _ in range(-(-count // ADDRESSES_PER_ACCOUNT))
        ]

        def open_form(i: int) -> Form:
            cookies = server.logged_in(f"bench{i}@example.com")
            return server.browse(page, ("address.street",), cookies)

        opened = run_parallel([lambda i=i: open_form(i) for i in accounts], concurrency)[1]
        tasks = []
        for cookies, action, fields in opened:
            form = fill(fields, ADDRESS)
            post = lambda c=cookies, a=action, f=form: fetch(port, "POST", a, c, f)  # noqa: E731
            tasks += [post] * ADDRESSES_PER_ACCOUNT
        return tasks[:count], _wsactions_notice
    raise ValueError(scenario)


def _ok200(response: Response) -> bool:
    return response.status == 200


def _hello(response: Response) -> bool:
    return response.status == 200 and b"Hello bench" in response.body


RUN = secrets.token_hex(3)


def burst(
    scenario: str, server: Server, dbs: Databases, count: int, concurrency: int
) -> tuple[Sample, Response | None]:
    """Prepare and send one burst; the sample and the first failed answer, if any."""
    tasks, check = tasks_for(scenario, server, count, concurrency)
    db_before = dbs.backend_cpu_ns(server.url)
    worker_before, client_before = cpu_ns(server.worker), time.process_time_ns()
    seconds, responses = run_parallel(tasks, concurrency)
    worker_ns = cpu_ns(server.worker) - worker_before
    client_ns = time.process_time_ns() - client_before
    db_after = dbs.backend_cpu_ns(server.url)
    db_ns = sum(ns - db_before.get(pid, 0) for pid, ns in db_after.items())
    failed = [r for r in responses if not check(r)]
    sample = Sample(seconds, len(tasks), worker_ns, db_ns, client_ns, len(failed))
    return sample, (failed[0] if failed else None)


# --- the run -----------------------------------------------------------------------------


@dataclass
class Result:
    samples: dict[tuple[str, str], list[Sample]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def run_pair(
    pair: str, kind: str, args: argparse.Namespace, cpus: tuple[int | None, int | None]
) -> None:
    first, second, title = PAIRS[pair]
    dbs = Databases(kind)
    servers: list[Server] = []
    result = Result()
    try:
        base_env = {**os.environ, "BENCH_SECRET_KEY": secrets.token_urlsafe(48)}
        base_env["BENCH_PASSWORD"] = PASSWORD
        base_env.pop("DJANGO_SETTINGS_MODULE", None)
        for system in (first, second):
            url = dbs.url(system)
            env = {**base_env, "BENCH_DATABASE_URL": url}
            log = dbs.folder / f"{system.key}.log"
            server = Server(system, url, env, cpus[0], log)
            server.setup()
            servers.append(server)
        for _ in range(args.startups):  # interleaved restarts: time to the first 200
            for server in servers:
                server.start()
                server.stop()
        for server in servers:
            server.start()
        scenarios = [s for s in SCENARIOS if s in args.scenarios]
        counts: dict[tuple[str, str], int] = {}
        for server in servers:  # warm-up, then a short burst that sizes the rounds
            for scenario in scenarios:
                if scenario == "address" and server.system.addresses_page is None:
                    continue
                burst(scenario, server, dbs, 20, args.concurrency)
                sample, _ = burst(scenario, server, dbs, 40, args.concurrency)
                rate = sample.requests / sample.seconds
                counts[server.system.key, scenario] = max(20, round(rate * args.seconds))
            server.rss_warm = rss_mib(server.worker)
        for scenario in scenarios:
            for _ in range(args.rounds):
                for server in servers:
                    key = (server.system.key, scenario)
                    if key not in counts:
                        continue
                    sample, failed = burst(scenario, server, dbs, counts[key], args.concurrency)
                    result.samples.setdefault(key, []).append(sample)
                    if failed is not None:
                        result.failures.append(
                            f"{server.system.label} {scenario}: {sample.failures} failed, "
                            f"e.g. {failed.status} {failed.header('location') or ''} "
                            f"{failed.text[:300]!r}"
                        )
        report(kind, title, servers, result)
        if args.profile:
            profile(servers[0], dbs, args)
    finally:
        for server in servers:
            server.stop()
        dbs.close()


def _median_rate(samples: list[Sample]) -> tuple[float, float]:
    rates = [s.requests / s.seconds for s in samples]
    middle = statistics.median(rates)
    return middle, (max(rates) - min(rates)) / middle * 100


def _cpu_ms(samples: list[Sample], attribute: str) -> float:
    return statistics.median(getattr(s, attribute) / s.requests / 1e6 for s in samples)


def report(kind: str, title: str, servers: list[Server], result: Result) -> None:
    pg = kind == "postgresql"
    a, b = servers
    cpu = "CPU ms/req"
    width = 27 if pg else 23
    print(f"\n== {'PostgreSQL' if pg else 'SQLite (WAL)'} -- {title}")
    if pg:
        print("   (CPU ms/req: the worker's + its PostgreSQL backends'; CPU+db: their sum's ratio)")
    print(f"{'':<14}{a.system.label:^{width}}|{b.system.label:^{width}}|  wsactions/peer")
    ratio_head = f"{'req/s':>7} {'CPU':>6}" + (f" {'CPU+db':>7}" if pg else "")
    print(f"{'scenario':<14}" + f"{'req/s':>7} {'±':>4} {cpu:>{width - 13}}|" * 2 + ratio_head)
    for scenario in SCENARIOS:
        cells, values = [], []
        for server in servers:
            samples = result.samples.get((server.system.key, scenario))
            if not samples:
                cells.append(f"{'--':>7}{'':{width - 7}}")
                values.append(None)
                continue
            rate, spread = _median_rate(samples)
            worker, db = _cpu_ms(samples, "worker_ns"), _cpu_ms(samples, "db_ns")
            cpu_text = f"{worker:.2f}+{db:.2f}" if pg else f"{worker:.2f}"
            fails = sum(s.failures for s in samples)
            cpu_text = f"{'!' if fails else ''}{cpu_text}"
            cells.append(f"{rate:>7.0f} {spread:>3.0f}% {cpu_text:>{width - 13}}")
            values.append((rate, worker, worker + db))
        if values[0] and values[1]:
            (ra, wa, ta), (rb, wb, tb) = values[0], values[1]
            ratios = f"{ra / rb:>6.2f}x {wa / wb:>5.2f}x" + (f" {ta / tb:>6.2f}x" if pg else "")
        else:
            ratios = "  (wsactions alone)" if values[0] else ""
        if any(values):
            print(f"{scenario:<14}{'|'.join(cells)}|{ratios}")
    rows = (
        ("start→200 ms", [statistics.median(s.startups) * 1000 for s in servers], "{:.0f}"),
        ("RSS warm MiB", [s.rss_warm for s in servers], "{:.1f}"),
        ("RSS end MiB", [rss_mib(s.worker) for s in servers], "{:.1f}"),
    )
    for label, (x, y), pattern in rows:
        cells = [f"{pattern.format(v):>7}{'':{width - 7}}" for v in (x, y)]
        print(f"{label:<14}{'|'.join(cells)}|{x / y:>6.2f}x")
    everything = [s for samples in result.samples.values() for s in samples]
    worker_busy = [s.worker_ns / 1e9 / s.seconds for s in everything]
    client_busy = [s.client_ns / 1e9 / s.seconds for s in everything]
    print(
        f"busy during the bursts: the worker {min(worker_busy):.0%}-{max(worker_busy):.0%} "
        f"of its core, the client {min(client_busy):.0%}-{max(client_busy):.0%} of its own"
    )
    for failure in result.failures:
        print(f"  ! FAILED {failure}")
    if result.failures:
        for server in servers:
            log = server.log.read_text(errors="replace") if server.log.is_file() else ""
            if "Traceback" in log:
                print(f"  ! {server.system.label}'s error log ends:\n{log[-4000:]}")


# --- profile -----------------------------------------------------------------------------


def profile(server: Server, dbs: Databases, args: argparse.Namespace) -> None:
    """py-spy on the wsactions worker during the login and the account-page scenario."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        print("--profile needs py-spy (pip install py-spy)")
        return
    for scenario in ("login", "account page", "own page"):
        out = dbs.folder / f"profile-{scenario.replace(' ', '-')}.txt"
        count = max(200, round(args.profile_seconds * 400))
        tasks, _ = tasks_for(scenario, server, count, args.concurrency)
        command = [spy, "record", "--pid", str(server.worker), "--rate", "1000"]
        command += ["--format", "raw", "--function", "--gil", "--nonblocking", "--output", str(out)]
        spy_process = subprocess.Popen(  # noqa: S603
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)  # attached
        run_parallel(tasks, args.concurrency)
        spy_process.send_signal(signal.SIGINT)
        spy_process.wait(timeout=60)
        print(f"\n-- py-spy, {server.system.label}, {scenario} ({len(tasks)} requests)")
        print_profile(out.read_text())


def _package(frame: str) -> str:
    """Where a py-spy frame ``name (path:line)`` runs: its top-level package, ``templates``
    for compiled Jinja templates, ``stdlib`` for modules without a package."""
    path = frame.rpartition(" (")[2].rstrip(")").rpartition(":")[0]
    if path.endswith(".html"):
        return "templates"
    if "/" not in path.lstrip("<"):
        return "stdlib"
    return path.split("/", 1)[0]


def print_profile(raw: str, top: int = 14) -> None:
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue  # not a stack (a frame name with a line break in it)
        count = int(count_text)
        frames = stack.split(";")
        total += count
        self_time[frames[-1]] += count
        packages[_package(frames[-1])] += count
        for frame in set(frames):
            if _package(frame) == "wsactions":
                inclusive[frame] += count
    if not total:
        print("  (no samples)")
        return
    print(f"  {total} samples; own time by package:")
    print("   " + ", ".join(f"{name} {n / total:.0%}" for name, n in packages.most_common(10)))
    print("  own time, top functions:")
    for frame, n in self_time.most_common(top):
        print(f"   {n / total:6.1%}  {frame}")
    print("  wsactions functions, including what they call:")
    for frame, n in inclusive.most_common(top):
        print(f"   {n / total:6.1%}  {frame}")


# --- main --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="about a second per burst")
    parser.add_argument("--seconds", type=float, help="seconds per burst (default 2)")
    parser.add_argument("--rounds", type=int, help="rounds of A, B per scenario (default 3)")
    parser.add_argument("--startups", type=int, help="restarts timed per system (default 3)")
    parser.add_argument("--concurrency", type=int, default=3, help="requests in flight")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pair", choices=("flask", "django", "both"), default="both")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated")
    parser.add_argument("--profile", action="store_true", help="py-spy of the wsactions worker")
    parser.add_argument("--profile-seconds", type=float, default=4.0)
    args = parser.parse_args()
    args.seconds = args.seconds or (0.75 if args.quick else 2.0)
    args.rounds = args.rounds or (2 if args.quick else 3)
    args.startups = args.startups or (1 if args.quick else 3)
    args.scenarios = set(args.scenarios.split(","))
    unknown = args.scenarios - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}; known: {', '.join(SCENARIOS)}")

    available = sorted(os.sched_getaffinity(0))
    cpus: tuple[int | None, int | None] = (None, None)
    if len(available) >= 2:
        cpus = (available[0], available[1])
        os.sched_setaffinity(0, {available[1]})  # the load generator: this process
    versions = []
    for name in VERSIONS:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions.append(f"{name} {importlib.metadata.version(name)}")
    print(f"bench_http: {', '.join(versions)}; Python {sys.version.split()[0]}")
    print(
        f"worker on CPU {cpus[0]}, client on CPU {cpus[1]} ({os.cpu_count()} CPUs); "
        f"{args.rounds} rounds of ~{args.seconds:g} s per system and scenario, "
        f"{args.concurrency} requests in flight, a new connection each"
    )
    if cpus[0] is None:
        print("WARNING: fewer than 2 CPUs available: worker and client are not pinned")
    print(
        "Password hashing is made cheap everywhere (wsactions and Flask-Security-Too: argon2id "
        "t=1 m=8 KiB p=1; allauth: Django's MD5 hasher) so that hashing does not hide the "
        "rest. CSRF is on everywhere."
    )
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    started = time.perf_counter()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    pairs = ("flask", "django") if args.pair == "both" else (args.pair,)
    for kind in kinds:
        for pair in pairs:
            run_pair(pair, kind, args, cpus)
    load = os.getloadavg()
    print(f"\nload average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
