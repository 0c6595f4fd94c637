"""Build ``strength_data/lexicon.bin``: zxcvbn's ranked dictionaries, prebuilt.

Run after changing the pinned zxcvbn version (the file is committed)::

    python tools/build_strength.py          # rewrite the file
    python tools/build_strength.py --check  # exit 1 if it is stale

``tests/security/test_strength_data.py`` regenerates the bytes and compares
them with the shipped file, so the data cannot drift from zxcvbn's lists.

The file holds every word of zxcvbn's frequency lists *and every prefix of a
word* (the matchers stop extending a substring once it is no longer a prefix)
in a bucketed hash table that is used where it lies, without building one
Python object per word: loading is one ``read`` (about 3.5 MB, a millisecond
or two) and a handful of zero-copy ``memoryview`` casts, where building the
equivalent dict took 0.3 s and 30 MB per process.

Layout (integers little-endian, sections 4-byte aligned)::

    magic       8 bytes  b"WSZXLEX1"
    header_len  uint32
    header      JSON (sorted keys): zxcvbn version, dictionary names in
                zxcvbn's order, rank_bits, max_word, bucket_bits, counts, and
                "matching": the matchers' tables from ``zxcvbn.matching`` (l33t
                table, date splits and year range, regexes, keyboard graph
                names), so that scoring never imports that module (it builds
                the dictionaries again on import: ~15 ms and ~12 MiB)
    buckets     uint32 * (2**bucket_bits + 1): first entry of each bucket
    keys        uint32 * entries: word offset << 5 | length
    values      uint32 * entries: pair offset << 3 | pair count; 0: a prefix only
    pairs       uint32 * pairs: dictionary index << rank_bits | rank
    words       ASCII bytes: the words, sorted, concatenated

An entry's key is ``words[offset:offset + length]`` (a prefix points into the
first word it begins).  A key's bucket is ``zlib.crc32(key) & (2**bucket_bits
- 1)``; the entries of a bucket are contiguous, sorted by key.  A word's
(dictionary index, rank) pairs are in dictionary order, its rank in each list
as ``zxcvbn.matching.build_ranked_dict`` gives it.
"""

from __future__ import annotations

import json
import struct
import sys
import zlib
from pathlib import Path
from typing import Any

import wsactions.security

MAGIC = b"WSZXLEX2"
FORMAT_VERSION = 2
#: 2**17 buckets for ~234,000 keys: under 2 entries per bucket on average.
BUCKET_BITS = 17
#: Where the file is shipped, relative to this module.
DATA_PATH = Path(wsactions.security.__file__).with_name("strength_data") / "lexicon.bin"


def ranked_entries(
    frequency_lists: dict[str, list[str]],
) -> tuple[tuple[str, ...], dict[str, list[tuple[int, int]]]]:
    """(names, word or prefix -> [(dictionary index, rank), ...]); [] for a prefix."""
    names = tuple(frequency_lists)
    entries: dict[str, list[tuple[int, int]]] = {}
    for index, name in enumerate(names):
        # zxcvbn.matching.build_ranked_dict: a repeated word keeps its last rank.
        ranked = {word: rank for rank, word in enumerate(frequency_lists[name], 1)}
        for word, rank in ranked.items():
            entries.setdefault(word, []).append((index, rank))
    for word in list(entries):
        for end in range(1, len(word)):
            entries.setdefault(word[:end], [])
    return names, entries


def _align(data: bytearray) -> None:
    data.extend(b"\0" * (-len(data) % 4))


def matching_tables() -> dict[str, Any]:
    """The tables of the installed ``zxcvbn.matching`` the matchers use, as JSON values."""
    from zxcvbn import adjacency_graphs, matching

    graphs = list(matching.GRAPHS)
    if any(matching.GRAPHS[name] is not adjacency_graphs.ADJACENCY_GRAPHS[name] for name in graphs):
        raise ValueError("zxcvbn's keyboard graphs are not its adjacency graphs")
    return {
        "l33t_table": {letter: list(subs) for letter, subs in matching.L33T_TABLE.items()},
        "date_splits": {str(n): splits for n, splits in matching.DATE_SPLITS.items()},
        "date_min_year": matching.DATE_MIN_YEAR,
        "date_max_year": matching.DATE_MAX_YEAR,
        "regexen": {name: rx.pattern for name, rx in matching.REGEXEN.items()},
        "graphs": graphs,
        "max_delta": matching.MAX_DELTA,
    }


def build(
    frequency_lists: dict[str, list[str]] | None = None,
    version: str = "",
    tables: dict[str, Any] | None = None,
) -> bytes:
    """The file's bytes, from zxcvbn's frequency lists and matcher tables (the installed
    zxcvbn's by default)."""
    if frequency_lists is None:
        from importlib.metadata import version as dist_version

        from zxcvbn.frequency_lists import FREQUENCY_LISTS

        frequency_lists, version = FREQUENCY_LISTS, dist_version("zxcvbn")
    if tables is None:
        tables = matching_tables()
    names, entries = ranked_entries(frequency_lists)
    if not all(key.isascii() for key in entries):
        raise ValueError("the lexicon format holds ASCII words only")
    rank_bits = max(len(frequency_lists[name]) for name in names).bit_length()
    max_word = max(len(key) for key, pairs in entries.items() if pairs)
    if max_word >= 32 or len(names) << rank_bits >= 1 << 32:
        raise ValueError("the lexicon does not fit the format")

    words = sorted(key for key, pairs in entries.items() if pairs)
    blob = bytearray()
    offset: dict[str, int] = {}
    for word in words:
        start = len(blob)
        blob += word.encode("ascii")
        offset[word] = start
        for end in range(1, len(word)):
            offset.setdefault(word[:end], start)

    mask = (1 << BUCKET_BITS) - 1
    order = sorted(entries, key=lambda key: (zlib.crc32(key.encode("ascii")) & mask, key))
    buckets = [0] * (mask + 2)
    keys: list[int] = []
    values: list[int] = []
    pairs: list[int] = []
    for position, key in enumerate(order):
        buckets[(zlib.crc32(key.encode("ascii")) & mask) + 1] = position + 1
        keys.append(offset[key] << 5 | len(key))
        count = len(entries[key])
        values.append(len(pairs) << 3 | count if count else 0)
        pairs.extend(index << rank_bits | rank for index, rank in entries[key])
    for bucket in range(1, mask + 2):  # empty buckets end where the previous one ends
        buckets[bucket] = max(buckets[bucket], buckets[bucket - 1])
    if len(pairs) >= 1 << 29 or len(blob) >= 1 << 27:
        raise ValueError("the lexicon does not fit the format")

    header = json.dumps(
        {
            "format": FORMAT_VERSION,
            "zxcvbn": version,
            "names": list(names),
            "rank_bits": rank_bits,
            "max_word": max_word,
            "bucket_bits": BUCKET_BITS,
            "entries": len(order),
            "pairs": len(pairs),
            "words_bytes": len(blob),
            "matching": tables,
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode("ascii")
    data = bytearray(MAGIC)
    data += struct.pack("<I", len(header))
    data += header
    _align(data)
    for section in (buckets, keys, values, pairs):
        data += struct.pack(f"<{len(section)}I", *section)
    data += blob
    return bytes(data)


def main(argv: list[str]) -> int:
    data = build()
    if "--check" in argv:
        current = DATA_PATH.read_bytes() if DATA_PATH.exists() else b""
        if current != data:
            print(f"{DATA_PATH} is stale: run python tools/build_strength.py")
            return 1
        print(f"{DATA_PATH} is up to date ({len(data)} bytes)")
        return 0
    DATA_PATH.parent.mkdir(exist_ok=True)
    DATA_PATH.write_bytes(data)
    print(f"wrote {DATA_PATH} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
