"""The prebuilt lexicon of wsactions.security.strength: current, exact, cheap to load."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import threading
import time
from importlib.metadata import version

import pytest
from tools import build_strength as _build_strength
from zxcvbn import matching as zmatching
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from wsactions.security import strength


@pytest.fixture(scope="module")
def rebuilt() -> bytes:
    return _build_strength.build()


@pytest.fixture(scope="module")
def lexicon() -> strength._Lexicon:
    return strength._get_lexicon()


def test_zxcvbn_is_the_pinned_version() -> None:
    """The file is built from zxcvbn 4.5.0's lists (pyproject pins zxcvbn==4.5.0)."""
    assert version("zxcvbn") == "4.5.0"


def test_shipped_file_is_what_the_build_step_makes(rebuilt: bytes) -> None:
    """Regenerating yields the same bytes: the data cannot drift from zxcvbn's lists.

    If this fails after changing zxcvbn: ``python tools/build_strength.py``.
    """
    shipped = _build_strength.DATA_PATH.read_bytes()
    assert shipped == rebuilt
    assert _build_strength.main(["--check"]) == 0
    (size,) = struct.unpack_from("<I", shipped, 8)
    header = json.loads(shipped[12 : 12 + size])
    assert header["zxcvbn"] == "4.5.0"
    assert header["names"] == list(FREQUENCY_LISTS)
    assert len(shipped) < 4 * 1024 * 1024


def test_matcher_tables_are_zxcvbns() -> None:
    """The tables the matchers read from the file are zxcvbn.matching's own."""
    assert strength._TABLES["l33t_table"] == zmatching.L33T_TABLE
    assert strength._L33T_TABLE == zmatching.L33T_TABLE
    assert strength._DATE_SPLITS == zmatching.DATE_SPLITS
    assert (strength._DATE_MIN_YEAR, strength._DATE_MAX_YEAR) == (
        zmatching.DATE_MIN_YEAR,
        zmatching.DATE_MAX_YEAR,
    )
    assert strength._MAX_DELTA == zmatching.MAX_DELTA
    assert {name: rx.pattern for name, rx in strength._REGEXEN} == {
        name: rx.pattern for name, rx in zmatching.REGEXEN.items()
    }
    assert [name for name, _ in strength._GRAPHS] == list(zmatching.GRAPHS)
    for name in zmatching.GRAPHS:
        assert strength._zgraphs.ADJACENCY_GRAPHS[name] == zmatching.GRAPHS[name]


def test_every_word_has_zxcvbns_ranks(lexicon: strength._Lexicon) -> None:
    """Each word's (dictionary, rank) pairs are zxcvbn's ``build_ranked_dict``'s, in order."""
    assert lexicon.names == tuple(FREQUENCY_LISTS)
    expected: dict[str, list[tuple[int, int]]] = {}
    for index, name in enumerate(lexicon.names):
        for word, rank in zmatching.build_ranked_dict(FREQUENCY_LISTS[name]).items():
            expected.setdefault(word, []).append((index, rank))
    for word, pairs in expected.items():
        handle = lexicon.get(word)
        assert handle, word
        assert lexicon.ranks(handle) == pairs, word
    assert lexicon.max_word == max(map(len, expected))


def test_prefixes_and_nothing_else(lexicon: strength._Lexicon) -> None:
    """Every proper prefix of a word is there (0 unless a word too); other strings are not."""
    words = {word for name in FREQUENCY_LISTS for word in FREQUENCY_LISTS[name]}
    prefixes = {word[:end] for word in words for end in range(1, len(word))}
    for prefix in prefixes:
        handle = lexicon.get(prefix)
        assert handle is not None, prefix
        assert bool(handle) == (prefix in words), prefix
    keys = words | prefixes
    _, entries = _build_strength.ranked_entries(FREQUENCY_LISTS)
    assert set(entries) == keys
    absent = ["", "zzzzzzzzzz", "passwordx" * 3, "pässword", "\u0130", "PASSWORD", "pass word"]
    absent += [word + "\x00" for word in list(words)[:2000]]
    for text in absent:
        if text not in keys:
            assert lexicon.get(text) is None, text


def test_loaded_once_under_concurrent_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    """Threads racing on the first call share one table, loaded once."""
    loads = []
    real_load = strength._load_lexicon

    def slow_load() -> strength._Lexicon:
        loads.append(1)
        time.sleep(0.05)
        return real_load()

    monkeypatch.setattr(strength, "_lexicon", None)
    monkeypatch.setattr(strength, "_load_lexicon", slow_load)
    barrier = threading.Barrier(8)
    seen: list[strength._Lexicon] = []

    def first_use() -> None:
        barrier.wait()
        seen.append(strength._get_lexicon())

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1
    assert len(seen) == 8
    assert all(item is seen[0] for item in seen)


FRESH_PROCESS = """
import resource, sys, time
from wsactions.security import strength
assert strength._lexicon is None, "loaded at import"
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
assert strength.score("Tr0ub4dor&3") == 4
elapsed = time.perf_counter() - start
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss
loaded = [m for m in sys.modules if m == "zxcvbn" or m.startswith("zxcvbn.")]
assert not loaded, f"zxcvbn's package initialiser ran: {loaded}"
print(elapsed, grown)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB (Linux)")
def test_first_score_in_a_fresh_process_is_cheap() -> None:
    """Lazy: nothing is loaded at import; the first score adds little memory, and
    zxcvbn's package (whose initialiser builds its dictionaries again: ~12 MiB) is
    never imported.

    (It used to build a 234,000-entry dict: 0.2 s and ~20 MiB.)  Time is
    measured by bench/bench_startup.py, not here.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(  # noqa: S603 - our own fixed script
        [sys.executable, "-c", FRESH_PROCESS],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    _, grown_kib = result.stdout.split()
    assert int(grown_kib) < 10 * 1024
