"""Password strength scoring: zxcvbn 4.5.0's score in bounded time, thread-safely.

``score(password, user_inputs)`` returns what ``zxcvbn.zxcvbn(password,
user_inputs=user_inputs)["score"]`` returns (0..4), but

* never raises for a ``str`` (zxcvbn raises IndexError for ``""``, ValueError
  past 72 characters and, in its date matcher, for 5+ digits followed by a
  newline; ``""`` scores 0);
* takes a bounded time for any length, including adversarial input (about
  3 ms at worst, well under 1 ms typically; see bench/bench_strength.py);
* is thread-safe: zxcvbn writes each call's ``user_inputs`` into the global
  ``zxcvbn.matching.RANKED_DICTIONARIES``, so concurrent calls see each
  other's words.  Here nothing global is written: the user-inputs dictionary
  is built per call and passed down to our own matchers.  The password is
  never logged, returned, kept or put into an exception.

Where zxcvbn's time goes (cProfile, plain zxcvbn)
-------------------------------------------------
For a password of n characters ``dictionary_match`` slices all n(n+1)/2
substrings and looks each up in 7 dictionaries (about 5 ms at n = 72), and
``l33t_match`` runs that whole pass again for every l33t substitution map
``enumerate_l33t_subs`` yields - up to 736 for the 20 l33t characters: for
random 72-character passwords it was 88% of the time (1069 dictionary passes
for 30 passwords), for l33t-dense ones seconds.  ``date_match`` tries ~10
regexes per position and filters its matches pairwise (O(m^2)); the search
(``scoring.most_guessable_match_sequence``) makes O(n^2) bruteforce updates
with Decimal arithmetic; ``repeat_match`` analyses each repeated base from
scratch.  ``"a" * 1000`` takes over a minute.

What this module does instead
-----------------------------
Up to ``_WINDOW`` = 32 characters the password is analysed *exactly as
zxcvbn does* - the same matches, in the same order, then the same search with
the same Decimal arithmetic, so the guesses (not just the score) are
identical - but each step is bounded:

* dictionaries: one merged table holding every word and every prefix of a
  word, so a substring is extended only while it is still a prefix (zxcvbn's
  words have at most 23 characters, user inputs at most the window);
* l33t: no enumeration and no pass per map.  One depth-first walk per start
  position branches, at each l33t character, over the letters it may stand
  for, pruned by the prefixes and by the set of maps still consistent with
  the choices so far.  That set is a bit field per letter plus one for the
  linked letters i/l/t (``_L33tPlan``), and gives the first consistent map in
  zxcvbn's order, which fixes the order of zxcvbn's matches;
* dates: only tokens the regexes can accept, and a linear-time filter;
* search: candidates that certainly lose are rejected on float shadows of
  the Decimals (with a 1e-9 relative margin), whole rows of them at once when
  even their least pi cannot win; a later match no better than one over the
  same span is skipped (it loses every comparison the first one made).

32 is where the worst inputs found (all digits, ``"1" * 32``: hundreds of
dictionary, date and repeat matches) stay under 3 ms; analysed the same way,
72 such characters take 5-15 ms.

Longer passwords are cut, left to right, into pieces (``_long_guesses``):

* a run repeating a base (``abcabc...``, found like zxcvbn's repeat matcher
  in a 64-character window and followed in C to its end, however long) is one
  repeat match: base guesses * repetitions, as in zxcvbn;
* text repeating the ``_LOOK_BACK`` = 1024 characters before it multiplies the
  guesses so far by its number of repetitions;
* anything else is taken ``_CHUNK`` = 16 characters at a time and analysed
  exactly (a chunk takes at most about 1 ms); an arithmetic sequence reaching
  its end is followed on for up to 256 characters.

All the pieces' matches form one match sequence, rated with zxcvbn's own
formula ``l! * prod(guesses) + 10000**(l - 1)`` (each match at least the 10 or
50 guesses zxcvbn gives a match shorter than the password).  Every match
still counts, so a long passphrase is never rated weaker because of the cut,
and ``"a" * 5000`` is still one repeat match (score 1).  The rating only grows
as pieces are added and reaches score 4 by the 4th match at the latest, so
the loop stops there: at most 4 chunks are analysed, whatever the length.

Where scores can differ from plain zxcvbn
-----------------------------------------
* Passwords longer than 32 characters (pieces, as above).  On samples of
  33..72 characters (word mixes, repeated words, digits, random) every score
  equalled zxcvbn's, but a word cut by a chunk boundary counts as two pieces
  (stronger), and a sequence longer than 256 characters or a period longer
  than 1024 is not seen as one (stronger); a repeat is rated by its own
  pieces, which can differ either way from zxcvbn's single repeat match.
* A capital sigma next to a substituted l33t character, when a user input
  holds a lowercase sigma: Python lowercases it by context (final or not),
  which the l33t walk does not model.  (zxcvbn's own word lists are ASCII.)
* More than ``_MAX_USER_INPUTS`` = 100 user inputs (the rest are ignored).
* Inputs zxcvbn raises for (above).

The merged table is prebuilt from the pinned zxcvbn's lists into
``strength_data/lexicon.bin`` (3.5 MB; ``python tools/build_strength.py`` in
the repository, checked by the tests) and memory-mapped
on first use, in under a millisecond: no Python object per word, pages shared
between worker processes.  Building it as a dict took 0.3 s and 30 MB in each
process.  A lookup costs about 0.7 us instead of a dict's 0.1 us; a call makes
at most about a thousand.  The file's header also carries the matchers' tables
from ``zxcvbn.matching``, and zxcvbn's scoring modules are loaded without its
package initialiser (see ``wsactions.security._zx``): ``import zxcvbn`` would
build its dictionaries again (~15 ms, ~12 MiB per process).  Nothing else is kept between
calls but zxcvbn's i/l/t combinations for each of the 32 subsets of the
characters 1 ! | 7 + - no password text, no results.
"""

from __future__ import annotations

import array
import decimal
import functools
import importlib
import json
import math
import mmap
import re
import struct
import sys
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

# zxcvbn's scoring, without zxcvbn.matching's dictionaries: see the _zx package.
_zscoring: Any = importlib.import_module("wsactions.security._zx.scoring")
_ztime: Any = importlib.import_module("wsactions.security._zx.time_estimates")
_zgraphs: Any = importlib.import_module("wsactions.security._zx.adjacency_graphs")

__all__ = ["MAX_SCORE", "score"]

#: The best score: "very unguessable" (more than 10**10 guesses).
MAX_SCORE: Final = 4

# A zxcvbn match object (a plain dict, as zxcvbn's scoring functions expect).
_Match = dict[str, Any]

_LEXICON_MAGIC: Final = b"WSZXLEX2"
_LEXICON_FORMAT: Final = 2
_LEXICON_PATH: Final = Path(__file__).with_name("strength_data") / "lexicon.bin"


def _read_header(data: Any) -> tuple[dict[str, Any], int]:
    """The lexicon file's JSON header and where it ends; *data*: bytes-like."""
    view = memoryview(data)
    if bytes(view[:8]) != _LEXICON_MAGIC:
        raise ValueError("not a wsactions lexicon file of this version")
    (header_size,) = struct.unpack_from("<I", view, 8)
    header: dict[str, Any] = json.loads(bytes(view[12 : 12 + header_size]))
    if header["format"] != _LEXICON_FORMAT:
        raise ValueError("unsupported lexicon format")
    return header, 12 + header_size


def _matching_tables() -> dict[str, Any]:
    """zxcvbn.matching's tables, as the lexicon file keeps them (its first few KiB)."""
    with _LEXICON_PATH.open("rb") as file:
        start = file.read(12)
        (header_size,) = struct.unpack_from("<I", start, 8) if len(start) == 12 else (0,)
        tables: dict[str, Any] = _read_header(start + file.read(header_size))[0]["matching"]
    return tables


_TABLES: Final = _matching_tables()

#: Inputs up to this many characters are analysed as a whole, exactly like zxcvbn.
_WINDOW: Final = 32
#: Longer inputs are cut into pieces of at most this many characters (see below).
_CHUNK: Final = 16
#: How far past its chunk one arithmetic sequence is followed (any in Latin-1 fits).
_SEQUENCE_EXTENSION: Final = 256
#: How far back a chunk is looked for in the text before it (bounds the search).
_LOOK_BACK: Final = 1024
#: Context words: how many are considered, and how long one may be to matter.
_MAX_USER_INPUTS: Final = 100
_USER_INPUTS_DICT: Final = "user_inputs"

# zxcvbn's thresholds (time_estimates.guesses_to_score) and search constants.
_SCORE_4_GUESSES: Final = Decimal(10**10 + 5)
_D: Final[int] = _zscoring.MIN_GUESSES_BEFORE_GROWING_SEQUENCE
_MIN_SUBMATCH_SINGLE: Final[int] = _zscoring.MIN_SUBMATCH_GUESSES_SINGLE_CHAR
_MIN_SUBMATCH_MULTI: Final[int] = _zscoring.MIN_SUBMATCH_GUESSES_MULTI_CHAR

# The decimal context zxcvbn's search implicitly runs in (Python's default
# context); fixed here so a caller's thread-local context cannot change results.
_DECIMAL_CONTEXT: Final = decimal.Context(
    prec=28,
    rounding=decimal.ROUND_HALF_EVEN,
    Emin=-999999,
    Emax=999999,
    capitals=1,
    clamp=0,
    flags=[],
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)


# ---------------------------------------------------------------------------
# Read-only tables, shared by all threads
# ---------------------------------------------------------------------------


class _Lexicon:
    """zxcvbn's ranked frequency lists, prebuilt into one read-only table.

    The table (``strength_data/lexicon.bin``, written by
    ``python tools/build_strength.py`` from the pinned zxcvbn's
    lists; see that module for the layout) holds every word *and every prefix
    of a word*.  It is memory-mapped (or read, where mapping is not possible)
    and searched where it lies, so loading builds no Python object per word.
    """

    __slots__ = (
        "_buckets",
        "_keys",
        "_mask",
        "_pairs",
        "_rank_bits",
        "_rank_mask",
        "_values",
        "_view",
        "_words",
        "max_word",
        "names",
    )

    def __init__(self, data: Any) -> None:
        """*data*: the file's bytes (or an ``mmap`` of them)."""
        view = memoryview(data)
        header, header_end = _read_header(view)
        self.names: tuple[str, ...] = tuple(header["names"])
        self.max_word: int = header["max_word"]
        self._rank_bits: int = header["rank_bits"]
        self._rank_mask = (1 << self._rank_bits) - 1
        self._mask = (1 << header["bucket_bits"]) - 1
        position = header_end + (-header_end % 4)
        sections = []
        for count in (self._mask + 2, header["entries"], header["entries"], header["pairs"]):
            sections.append(_uint32s(view[position : position + 4 * count]))
            position += 4 * count
        self._buckets, self._keys, self._values, self._pairs = sections
        # A copy (0.7 MB), for bytes.startswith: no slice per comparison.
        self._words = bytes(view[position : position + header["words_bytes"]])
        self._view = view  # keeps *data* alive

    def get(self, word: str) -> int | None:
        """None: neither a word nor a prefix; 0: a prefix only; else a ``ranks`` handle."""
        if not word.isascii():
            return None  # the lists are ASCII
        key = word.encode("ascii")
        size = len(key)
        bucket = zlib.crc32(key) & self._mask
        keys = self._keys
        words = self._words
        entry = self._buckets[bucket]
        end = self._buckets[bucket + 1]
        while entry < end:
            packed = keys[entry]
            if packed & 31 == size and words.startswith(key, packed >> 5):
                value: int = self._values[entry]
                return value
            entry += 1
        return None

    def ranks(self, handle: int) -> list[tuple[int, int]]:
        """A word's [(dictionary index, rank), ...] in dictionary order."""
        start = handle >> 3
        rank_bits = self._rank_bits
        rank_mask = self._rank_mask
        return [
            (pair >> rank_bits, pair & rank_mask)
            for pair in self._pairs[start : start + (handle & 7)]
        ]


def _uint32s(view: memoryview) -> Sequence[int]:
    """Little-endian uint32s, without copying where the platform allows."""
    if sys.byteorder == "little" and array.array("I").itemsize == 4:
        return view.cast("I")
    values = array.array("I")
    values.frombytes(view)
    values.byteswap()
    return values


def _load_lexicon() -> _Lexicon:
    with _LEXICON_PATH.open("rb") as file:
        try:
            data: Any = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):  # pragma: no cover - e.g. no mmap on this file
            data = file.read()
    return _Lexicon(data)


_lexicon: _Lexicon | None = None
_lexicon_lock = threading.Lock()


def _get_lexicon() -> _Lexicon:
    global _lexicon  # loaded once, lazily, under a lock
    lexicon = _lexicon
    if lexicon is None:
        with _lexicon_lock:
            if _lexicon is None:
                _lexicon = _load_lexicon()
            lexicon = _lexicon
    return lexicon


_Sub = tuple[tuple[str, str], ...]  # an l33t substitution as zxcvbn's association list
_Component = tuple[str, str]  # ("digit" | "flag", letter): one position of a sub's order key


def _enumerate_l33t_subs(table: dict[str, list[str]]) -> list[_Sub]:
    """``matching.enumerate_l33t_subs``: the same subs in the same order."""
    return [sub for sub, _ in _enumerate_keyed(table)]


def _enumerate_keyed(table: dict[str, list[str]]) -> list[tuple[_Sub, tuple[int, ...]]]:
    """The subs of ``matching.enumerate_l33t_subs`` with their order keys.

    Each step of zxcvbn's enumeration loops over the letter's characters (outer)
    and the subs so far (inner), emitting a sub once, or twice (unchanged, then
    with the character moved to this letter) if it already uses the character.
    So the list stays sorted by a key built as: key = (character position,
    *previous key) and, for a step that can emit twice, (..., 0 or 1) appended.
    zxcvbn's de-duplication keeps the first, i.e. smallest, key.  Association
    lists stay sorted by letter, so the tuple itself is zxcvbn's label.
    """
    subs: list[tuple[_Sub, tuple[int, ...]]] = [((), ())]
    used: set[str] = set()
    for letter, chars in table.items():
        twice = any(c in used for c in chars)
        extended: list[tuple[_Sub, tuple[int, ...]]] = []
        for position, char in enumerate(chars):
            for sub, key in subs:
                at = next((k for k, (c, _) in enumerate(sub) if c == char), -1)
                if at == -1:
                    extended.append(((*sub, (char, letter)), _step_key(position, key, twice, 0)))
                else:
                    extended.append((sub, _step_key(position, key, twice, 0)))
                    moved = (*sub[:at], *sub[at + 1 :], (char, letter))
                    extended.append((moved, _step_key(position, key, twice, 1)))
        seen: set[_Sub] = set()
        subs = []
        for sub, key in extended:
            if sub not in seen:
                seen.add(sub)
                subs.append((sub, key))
        used.update(chars)
    return subs


def _step_key(position: int, key: tuple[int, ...], twice: bool, flag: int) -> tuple[int, ...]:
    return (position, *key, flag) if twice else (position, *key)


def _key_template(table: dict[str, list[str]]) -> tuple[_Component, ...]:
    """Which letter's digit or flag each position of the order key holds."""
    template: tuple[_Component, ...] = ()
    used: set[str] = set()
    for letter, chars in table.items():
        if any(c in used for c in chars):
            template = (("digit", letter), *template, ("flag", letter))
        else:
            template = (("digit", letter), *template)
        used.update(chars)
    return template


_L33T_TABLE: Final[dict[str, list[str]]] = {
    letter: list(subs) for letter, subs in _TABLES["l33t_table"].items()
}
_L33T_CHARS: Final = tuple(sorted({c for subs in _L33T_TABLE.values() for c in subs}))
_LETTER_ORDER: Final = {letter: index for index, letter in enumerate(_L33T_TABLE)}
# Letters sharing an l33t character with another letter ("1" is i or l, ...).
_LINKED_LETTERS: Final = frozenset(
    letter
    for letter, subs in _L33T_TABLE.items()
    for other, other_subs in _L33T_TABLE.items()
    if other != letter and set(subs) & set(other_subs)
)
_LINKED_CHARS: Final = frozenset(c for letter in _LINKED_LETTERS for c in _L33T_TABLE[letter])


@dataclass(frozen=True, slots=True)
class _L33tPlan:
    """zxcvbn's l33t substitutions for one set of l33t characters, without listing them.

    zxcvbn tries up to 736 substitution maps.  Each picks exactly one character
    for every letter whose characters are shared with no other letter (a: 4 or
    @, ...) independently, and one of a few combinations for the linked letters
    i, l, t.  A set of maps is an int: one bit field per independent letter (a
    bit per character) and one for the linked letters (a bit per combination,
    in zxcvbn's order).  A map is consistent with choices made so far iff no
    field is empty.  The first consistent map in zxcvbn's order takes each
    field's lowest bit (``first_sub``); ``key`` orders two such maps as
    zxcvbn's list does.  The tests check both against zxcvbn's enumeration.
    """

    #: l33t character -> ((letter it stands for or None, AND mask, its field), ...)
    options: dict[str, tuple[tuple[str | None, int, int], ...]]
    all_subs: int
    #: independent letter -> (bit offset, width); the linked field's offset.
    fields: dict[str, tuple[int, int]]
    linked_offset: int
    #: Order-key digits and flags of each linked combination, in zxcvbn's order.
    linked_keys: tuple[dict[_Component, int], ...]
    linked_subs: tuple[_Sub, ...]
    template: tuple[_Component, ...]
    #: independent letter -> its l33t characters present, in table order.
    chars: dict[str, list[str]]

    def key(self, state: int) -> tuple[int, ...]:
        """zxcvbn's order key of the first map consistent with *state*."""
        linked = state >> self.linked_offset
        linked_key = self.linked_keys[(linked & -linked).bit_length() - 1]
        key = []
        for component in self.template:
            field = self.fields.get(component[1])
            if field is None:
                key.append(linked_key[component])
            else:
                bits = (state >> field[0]) & ((1 << field[1]) - 1)
                key.append((bits & -bits).bit_length() - 1)
        return tuple(key)

    def first_sub(self, state: int) -> dict[str, str]:
        """The first map consistent with *state*, as zxcvbn's dict (letter order)."""
        linked = state >> self.linked_offset
        pairs = list(self.linked_subs[(linked & -linked).bit_length() - 1])
        for letter, (start, width) in self.fields.items():
            bits = (state >> start) & ((1 << width) - 1)
            pairs.append((self.chars[letter][(bits & -bits).bit_length() - 1], letter))
        pairs.sort(key=lambda pair: _LETTER_ORDER[pair[1]])
        return dict(pairs)


@dataclass(frozen=True, slots=True)
class _Linked:
    """zxcvbn's combinations for the linked letters i/l/t, for one set of their characters."""

    subs: tuple[_Sub, ...]
    keys: tuple[dict[_Component, int], ...]
    #: linked character -> ((letter or None, bit set of the combinations), ...)
    masks: dict[str, tuple[tuple[str | None, int], ...]]


@functools.cache  # at most 2**5 sets: 1 ! | 7 +
def _linked(present: frozenset[str]) -> _Linked:
    table = {
        letter: [c for c in subs if c in present]
        for letter, subs in _L33T_TABLE.items()
        if letter in _LINKED_LETTERS and any(c in present for c in subs)
    }
    linked = _enumerate_keyed(table)
    template = _key_template(table)
    maps = [dict(sub) for sub, _ in linked]
    masks = {
        char: tuple(
            (value, sum(1 << k for k, sub in enumerate(maps) if sub.get(char) == value))
            for value in (None, *(letter for letter, chars in table.items() if char in chars))
        )
        for char in present
    }
    return _Linked(
        subs=tuple(sub for sub, _ in linked),
        keys=tuple(dict(zip(template, key, strict=True)) for _, key in linked),
        masks=masks,
    )


def _l33t_plan(present: frozenset[str]) -> _L33tPlan:
    """The plan for the l33t characters in a password (built per call, in microseconds)."""
    table = {
        letter: [c for c in subs if c in present]
        for letter, subs in _L33T_TABLE.items()
        if any(c in present for c in subs)
    }
    linked = _linked(present & _LINKED_CHARS)
    fields: dict[str, tuple[int, int]] = {}
    offset = 0
    for letter, chars in table.items():
        if letter not in _LINKED_LETTERS:
            fields[letter] = (offset, len(chars))
            offset += len(chars)
    all_subs = (1 << (offset + len(linked.subs))) - 1
    linked_field = ((1 << len(linked.subs)) - 1) << offset
    options: dict[str, tuple[tuple[str | None, int, int], ...]] = {}
    for char in present:
        choices: list[tuple[str | None, int, int]] = []
        if char in linked.masks:
            for value, bits in linked.masks[char]:
                choices.append((value, (all_subs & ~linked_field) | (bits << offset), linked_field))
        else:
            [letter] = [letter for letter in fields if char in table[letter]]
            start, width = fields[letter]
            field = ((1 << width) - 1) << start
            bit = 1 << (start + table[letter].index(char))
            choices.append((None, all_subs & ~bit, field))
            choices.append((letter, (all_subs & ~field) | bit, field))
        options[char] = tuple(c for c in choices if c[1] & c[2])
    return _L33tPlan(
        options=options,
        all_subs=all_subs,
        fields=fields,
        linked_offset=offset,
        linked_keys=linked.keys,
        linked_subs=linked.subs,
        template=_key_template(table),
        chars={letter: table[letter] for letter in fields},
    )


# ---------------------------------------------------------------------------
# Per-call context: the user inputs, never stored in a global
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
    lexicon: _Lexicon
    user_words: dict[str, int]
    user_prefixes: frozenset[str]
    max_word: int
    #: Per call only: analyses of repeated bases, dates read from digits.
    cache: dict[str, tuple[Decimal, list[_Match]]]
    dates: dict[str, tuple[int, int, int] | None]


def _make_context(user_inputs: Sequence[Any]) -> _Context:
    """The ranked user-inputs dictionary zxcvbn would build, for this call only.

    zxcvbn lowercases each input (``str()`` of a non-string; bytes stay bytes
    and never match) and ranks them 1, 2, ... in order, a repeated word taking
    its last rank.  A word longer than the window can never match, so it is
    dropped here after taking its rank; inputs past the first
    ``_MAX_USER_INPUTS`` are ignored.
    """
    lexicon = _get_lexicon()
    user_words: dict[str, int] = {}
    for rank, item in enumerate(user_inputs, 1):
        if rank > _MAX_USER_INPUTS:
            break
        if isinstance(item, bytes):
            continue
        value = item if isinstance(item, str) else str(item)
        if 0 < len(value) <= _WINDOW:  # (lower() never shortens a string)
            word = value.lower()
            if len(word) <= _WINDOW:
                user_words[word] = rank
    prefixes = frozenset(word[:end] for word in user_words for end in range(1, len(word)))
    max_word = max([lexicon.max_word, *map(len, user_words)])
    return _Context(lexicon, user_words, prefixes, max_word, {}, {})


# ---------------------------------------------------------------------------
# Matchers: zxcvbn.matching's matchers, same matches in the same order
# ---------------------------------------------------------------------------


def _by_ij(match: _Match) -> tuple[int, int]:
    return match["i"], match["j"]


def _by_i(match: _Match) -> int:
    i: int = match["i"]
    return i


def _dictionary_match(password: str, ctx: _Context) -> list[_Match]:
    """``matching.dictionary_match`` over the merged dictionaries (already in order)."""
    lower = password.lower()
    n = len(password)
    entries = ctx.lexicon
    names = ctx.lexicon.names
    user_words = ctx.user_words
    user_prefixes = ctx.user_prefixes
    matches: list[_Match] = []
    for i in range(n):
        for j in range(i, min(n, i + ctx.max_word)):
            word = lower[i : j + 1]
            found = entries.get(word)
            user_rank = user_words.get(word) if user_words else None
            if found is None and user_rank is None and word not in user_prefixes:
                break
            if found:
                token = password[i : j + 1]
                for index, rank in ctx.lexicon.ranks(found):
                    matches.append(_dict_match(i, j, token, word, rank, names[index]))
            if user_rank is not None:
                token = password[i : j + 1]
                matches.append(_dict_match(i, j, token, word, user_rank, _USER_INPUTS_DICT))
    return matches


def _dict_match(i: int, j: int, token: str, word: str, rank: int, name: str) -> _Match:
    return {
        "pattern": "dictionary",
        "i": i,
        "j": j,
        "token": token,
        "matched_word": word,
        "rank": rank,
        "dictionary_name": name,
        "reversed": False,
        "l33t": False,
    }


def _reverse_dictionary_match(password: str, ctx: _Context) -> list[_Match]:
    n = len(password)
    matches = _dictionary_match(password[::-1], ctx)
    for match in matches:
        match["token"] = match["token"][::-1]
        match["reversed"] = True
        match["i"], match["j"] = n - 1 - match["j"], n - 1 - match["i"]
    return sorted(matches, key=_by_ij)


def _l33t_match(password: str, ctx: _Context) -> list[_Match]:
    """``matching.l33t_match`` without running a dictionary pass per substitution.

    zxcvbn translates the whole password with each of up to 736 substitution
    maps and runs the O(n^2) dictionary pass on each.  Here one depth-first walk
    per start position extends the candidate word character by character; at
    an l33t character it branches over the letters it may stand for (or itself),
    pruned by the dictionaries' prefixes and by a bit set of the substitution
    maps still consistent with the choices made.  The first consistent map is
    the one zxcvbn would have reported the match with, which fixes the order.
    """
    present = frozenset(c for c in _L33T_CHARS if c in password)
    if not present:
        return []
    plan = _l33t_plan(present)
    n = len(password)
    # zxcvbn matches on translate(password).lower() at the password's indices;
    # the l33t characters lower to themselves, so that string is the lowered
    # password with some l33t characters replaced.  ("\u0130".lower() has two
    # characters, so indices can shift, as they do in zxcvbn; a capital sigma
    # may lower differently next to a substituted letter: not modelled.)
    lower = password.lower()
    if len(lower) == n:
        is_l33t = [c in present for c in password]
    else:
        is_l33t = [c in present for c in password for _ in c.lower()]
    entries = ctx.lexicon
    names = ctx.lexicon.names
    user_words = ctx.user_words
    user_prefixes = ctx.user_prefixes
    options = plan.options
    found: list[tuple[int, int, tuple[int, ...], int, _Match]] = []
    Frame = tuple[int, str, dict[str, str | None], int]
    for i in range(n):
        stop = min(n, i + ctx.max_word)
        stack: list[Frame] = [(i, "", {}, plan.all_subs)]
        while stack:
            j, prefix, chosen, state = stack.pop()
            if j >= stop:
                continue
            char = lower[j]
            branches: list[tuple[str, dict[str, str | None], int]]
            if not is_l33t[j]:
                branches = [(char, chosen, state)]
            elif char in chosen:
                branches = [(chosen[char] or char, chosen, state)]
            else:
                branches = [
                    (value or char, {**chosen, char: value}, state & bits)
                    for value, bits, field in options[char]
                    if state & bits & field
                ]
            for out_char, out_chosen, out_state in branches:
                word = prefix + out_char
                hit = entries.get(word)
                user_rank = user_words.get(word) if user_words else None
                if hit is None and user_rank is None and word not in user_prefixes:
                    continue
                stack.append((j + 1, word, out_chosen, out_state))
                if not hit and user_rank is None:
                    continue
                token = password[i : j + 1]
                if token.lower() == word:
                    continue  # no actual substitution
                key = plan.key(out_state)
                sub = {c: v for c, v in plan.first_sub(out_state).items() if c in token}
                ranks = ctx.lexicon.ranks(hit) if hit else []
                if user_rank is not None:
                    ranks.append((len(names), user_rank))
                for index, rank in ranks:
                    name = names[index] if index < len(names) else _USER_INPUTS_DICT
                    match = _dict_match(i, j, token, word, rank, name)
                    match["l33t"] = True
                    match["sub"] = dict(sub)
                    found.append((i, j, key, index, match))
    found.sort(key=lambda item: item[:4])
    return [item[4] for item in found if len(item[4]["token"]) > 1]


def _adjacency(graph: dict[str, list[str | None]]) -> dict[str, dict[str, tuple[int, bool]]]:
    """prev char -> cur char -> (direction, shifted): the first adjacency holding cur."""
    table: dict[str, dict[str, tuple[int, bool]]] = {}
    for char, adjacents in graph.items():
        row: dict[str, tuple[int, bool]] = {}
        for direction, adjacent in enumerate(adjacents or ()):
            if adjacent:
                for char_index, neighbour in enumerate(adjacent):
                    if neighbour not in row and adjacent.index(neighbour) == char_index:
                        row[neighbour] = (direction, char_index == 1)
        table[char] = row
    return table


_GRAPHS: Final = tuple(
    (name, _adjacency(_zgraphs.ADJACENCY_GRAPHS[name])) for name in _TABLES["graphs"]
)
_SHIFTED: Final = frozenset('~!@#$%^&*()_+QWERTYUIOP{}|ASDFGHJKL:"ZXCVBNM<>?')
_NO_NEIGHBOURS: Final[dict[str, tuple[int, bool]]] = {}


def _spatial_match(password: str) -> list[_Match]:
    """``matching.spatial_match`` with the adjacency lists turned into lookups."""
    matches: list[_Match] = []
    n = len(password)
    for graph_name, graph in _GRAPHS:
        shift_counts = graph_name in ("qwerty", "dvorak")
        i = 0
        while i < n - 1:
            j = i + 1
            last_direction = -1
            turns = 0
            shifted_count = 1 if shift_counts and password[i] in _SHIFTED else 0
            while True:
                step = None
                if j < n:
                    step = graph.get(password[j - 1], _NO_NEIGHBOURS).get(password[j])
                if step is not None:
                    direction, shifted = step
                    if shifted:
                        shifted_count += 1
                    if direction != last_direction:
                        turns += 1
                        last_direction = direction
                    j += 1
                    continue
                if j - i > 2:
                    matches.append(
                        {
                            "pattern": "spatial",
                            "i": i,
                            "j": j - 1,
                            "token": password[i:j],
                            "graph": graph_name,
                            "turns": turns,
                            "shifted_count": shifted_count,
                        }
                    )
                i = j
                break
    return sorted(matches, key=_by_ij)


_GREEDY: Final = re.compile(r"(.+)\1+")
_LAZY: Final = re.compile(r"(.+?)\1+")
_LAZY_ANCHORED: Final = re.compile(r"^(.+?)\1+$")


def _repeat_match(password: str, ctx: _Context) -> list[_Match]:
    """``matching.repeat_match``, analysing the base token with *ctx*'s dictionaries."""
    matches: list[_Match] = []
    last_index = 0
    while last_index < len(password):
        greedy = _GREEDY.search(password, pos=last_index)
        lazy = _LAZY.search(password, pos=last_index)
        if not greedy or not lazy:
            break
        if len(greedy.group(0)) > len(lazy.group(0)):
            found = greedy
            anchored = _LAZY_ANCHORED.search(found.group(0))
            base_token = anchored.group(1) if anchored else found.group(1)
        else:
            found = lazy
            base_token = found.group(1)
        i, j = found.span()[0], found.span()[1] - 1
        base_guesses, base_matches = _analyse(base_token, ctx)
        matches.append(
            {
                "pattern": "repeat",
                "i": i,
                "j": j,
                "token": found.group(0),
                "base_token": base_token,
                "base_guesses": base_guesses,
                "base_matches": base_matches,
                "repeat_count": len(found.group(0)) / len(base_token),
            }
        )
        last_index = j + 1
    return matches


_DATE_NO_SEPARATOR: Final = re.compile(r"^\d{4,8}$")
_DATE_WITH_SEPARATOR: Final = re.compile(r"^(\d{1,4})([\s/\\_.-])(\d{1,2})\2(\d{1,4})$")
_DIGITS: Final = re.compile(r"\d+")


_DATE_MIN_YEAR: Final[int] = _TABLES["date_min_year"]
_DATE_MAX_YEAR: Final[int] = _TABLES["date_max_year"]
_REFERENCE_YEAR: Final[int] = _zscoring.REFERENCE_YEAR
_DATE_SPLITS: Final[dict[int, list[list[int]]]] = {
    int(n): splits for n, splits in _TABLES["date_splits"].items()
}


def _day_month(first: int, second: int) -> tuple[int, int] | None:
    """``matching.map_ints_to_dm``: (day, month) or None."""
    if 1 <= first <= 31 and 1 <= second <= 12:
        return first, second
    if 1 <= second <= 31 and 1 <= first <= 12:
        return second, first
    return None


def _dmy(a: int, b: int, c: int) -> tuple[int, int, int] | None:
    """``matching.map_ints_to_dmy`` on (a, b, c): (year, month, day) or None."""
    if b > 31 or b <= 0:
        return None
    over_12 = over_31 = under_1 = 0
    for value in (a, b, c):
        if 99 < value < _DATE_MIN_YEAR or value > _DATE_MAX_YEAR:
            return None
        over_31 += value > 31
        over_12 += value > 12
        under_1 += value <= 0
    if over_31 >= 2 or over_12 == 3 or under_1 >= 2:
        return None
    for year, first, second in ((c, a, b), (a, b, c)):
        if _DATE_MIN_YEAR <= year <= _DATE_MAX_YEAR:
            dm = _day_month(first, second)
            return None if dm is None else (year, dm[1], dm[0])
    for year, first, second in ((c, a, b), (a, b, c)):
        dm = _day_month(first, second)
        if dm is not None:
            if year <= 99:
                year += 1900 if year > 50 else 2000
            return year, dm[1], dm[0]
    return None


def _best_date(candidates: list[tuple[int, int, int]]) -> tuple[int, int, int] | None:
    """zxcvbn's pick among a token's readings: the year closest to REFERENCE_YEAR."""
    best = None
    best_distance = 0
    for dmy in candidates:
        distance = abs(dmy[0] - _REFERENCE_YEAR)
        if best is None or distance < best_distance:
            best, best_distance = dmy, distance
    return best


def _date_in_digits(digits: str) -> tuple[int, int, int] | None:
    """The date zxcvbn reads in 4..8 decimal digits: (year, month, day), or None."""
    candidates = []
    for first_end, middle_end in _DATE_SPLITS[len(digits)]:
        middle = int(digits[first_end:middle_end])
        if 0 < middle <= 31:  # (the first test of map_ints_to_dmy, done early)
            dmy = _dmy(int(digits[:first_end]), middle, int(digits[middle_end:]))
            if dmy is not None:
                candidates.append(dmy)
    return _best_date(candidates)


def _date_in_token(token: str) -> tuple[int, int, int] | None:
    """zxcvbn's reading of any token its separator-free date regex accepts."""
    if not _DATE_NO_SEPARATOR.match(token):
        return None
    candidates = []
    for first_end, middle_end in _DATE_SPLITS[len(token)]:
        last = token[middle_end:]
        if last == "\n":
            continue  # zxcvbn raises ValueError here (int("\n")); read as no date
        dmy = _dmy(int(token[:first_end]), int(token[first_end:middle_end]), int(last))
        if dmy is not None:
            candidates.append(dmy)
    return _best_date(candidates)


def _date_with_separator(token: str) -> tuple[str, int, int, int] | None:
    """The date in a 6..10 character *token* like 1.1.91: (separator, y, m, d), or None."""
    rx_match = _DATE_WITH_SEPARATOR.match(token)
    if not rx_match:
        return None
    dmy = _dmy(int(rx_match.group(1)), int(rx_match.group(3)), int(rx_match.group(4)))
    if dmy is None:
        return None
    return (rx_match.group(2), *dmy)


def _date_match(password: str, ctx: _Context) -> list[_Match]:
    """``matching.date_match``, trying only tokens its regexes can accept.

    Both regexes want a token starting with a digit; a separator-free one is
    all digits (its ``$`` also allows one final newline), one with separators
    has its first separator right after 1..4 digits.
    """
    n = len(password)
    run = [0] * (n + 1)  # run[k]: number of digits (\d) from k on
    for found in _DIGITS.finditer(password):
        for k in range(found.start(), found.end()):
            run[k] = found.end() - k
    matches: list[_Match] = []
    for i in range(n - 3):
        digits = run[i]
        if not digits:
            continue
        for j in range(i + 3, min(i + 8, n)):
            length = j - i + 1
            if length <= digits:
                token = password[i : j + 1]
                if token in ctx.dates:
                    date = ctx.dates[token]
                else:
                    date = ctx.dates[token] = _date_in_digits(token)
            elif length == digits + 1 and password[j] == "\n":
                date = _date_in_token(password[i : j + 1])
            else:
                break
            if date:
                matches.append(_date(password[i : j + 1], i, j, "", *date))
    for i in range(n - 5):
        if not 0 < run[i] <= 4:
            continue
        for j in range(i + 5, min(i + 10, n)):
            separated = _date_with_separator(password[i : j + 1])
            if separated:
                matches.append(_date(password[i : j + 1], i, j, *separated))
    if not matches:
        return []
    # zxcvbn drops a date lying within another date (each (i, j) occurs at most
    # once: separator-free tokens are all digits, the others contain a separator).
    widest = [-1] * n
    for match in matches:
        widest[match["i"]] = max(widest[match["i"]], match["j"])
    kept = []
    reach = -1  # the furthest j of any date starting before the current i
    position = 0
    for match in sorted(matches, key=_by_ij):
        i, j = match["i"], match["j"]
        while position < i:
            reach = max(reach, widest[position])
            position += 1
        if reach < j and widest[i] <= j:
            kept.append(match)
    return kept


def _date(token: str, i: int, j: int, separator: str, year: int, month: int, day: int) -> _Match:
    return {
        "pattern": "date",
        "token": token,
        "i": i,
        "j": j,
        "separator": separator,
        "year": year,
        "month": month,
        "day": day,
    }


_MAX_DELTA: Final[int] = _TABLES["max_delta"]
# What zxcvbn's sequence matcher tells apart, with its patterns (``$`` included).
_SEQUENCE_KINDS: Final = (
    (re.compile(r"^[a-z]+$"), "lower", 26),
    (re.compile(r"^[A-Z]+$"), "upper", 26),
    (re.compile(r"^\d+$"), "digits", 10),
)
_REGEXEN: Final = tuple((name, re.compile(rx)) for name, rx in _TABLES["regexen"].items())


def _sequence_match(password: str) -> list[_Match]:
    """``matching.sequence_match``: runs of one code-point step of at most 5 (abc, 9753).

    A run is maximal; runs share their boundary character; a run of two
    characters counts only with a step of 1.
    """
    matches: list[_Match] = []
    if len(password) < 2:
        return matches
    codes = [ord(c) for c in password]
    start, step = 0, codes[1] - codes[0]
    for k in range(2, len(codes) + 1):
        if k < len(codes) and codes[k] - codes[k - 1] == step:
            continue
        end = k - 1  # the run is password[start : end + 1]
        if (end - start > 1 or abs(step) == 1) and 0 < abs(step) <= _MAX_DELTA:
            token = password[start : end + 1]
            name, space = "unicode", 26
            for pattern, kind, size in _SEQUENCE_KINDS:
                if pattern.match(token):
                    name, space = kind, size
                    break
            matches.append(
                {
                    "pattern": "sequence",
                    "i": start,
                    "j": end,
                    "token": token,
                    "sequence_name": name,
                    "sequence_space": space,
                    "ascending": step > 0,
                }
            )
        if k < len(codes):
            start, step = end, codes[k] - codes[k - 1]
    return matches


def _regex_match(password: str) -> list[_Match]:
    """``matching.regex_match``: the recent years, as ``re`` matches (scoring reads them)."""
    matches = [
        {
            "pattern": "regex",
            "token": found.group(0),
            "i": found.start(),
            "j": found.end() - 1,
            "regex_name": name,
            "regex_match": found,
        }
        for name, regex in _REGEXEN
        for found in regex.finditer(password)
    ]
    matches.sort(key=_by_ij)
    return matches


def _omnimatch(password: str, ctx: _Context) -> list[_Match]:
    matches = _dictionary_match(password, ctx)
    matches += _reverse_dictionary_match(password, ctx)
    matches += _l33t_match(password, ctx)
    matches += _spatial_match(password)
    matches += _repeat_match(password, ctx)
    matches += _sequence_match(password)
    matches += _regex_match(password)
    matches += _date_match(password, ctx)
    matches.sort(key=_by_ij)
    return matches


# ---------------------------------------------------------------------------
# Search: scoring.most_guessable_match_sequence, same arithmetic, less work
# ---------------------------------------------------------------------------

_FACTORIAL: Final = tuple(math.factorial(k) for k in range(_WINDOW + 2))
_GROW: Final = tuple(_D ** max(k - 1, 0) for k in range(_WINDOW + 2))


def _float(value: int) -> float:
    return float(value) if value < 10**300 else math.inf


_FACTORIAL_F: Final = tuple(map(_float, _FACTORIAL))
_GROW_F: Final = tuple(map(_float, _GROW))
_BRUTEFORCE: Final = tuple(
    Decimal(max(10**k, _MIN_SUBMATCH_SINGLE + 1 if k == 1 else _MIN_SUBMATCH_MULTI + 1))
    for k in range(_WINDOW + 1)
)
_BRUTEFORCE_F: Final = tuple(float(v) for v in _BRUTEFORCE)
# Relative slack for deciding a comparison in floats; far above their error.
_EPS: Final = 1e-9


class _Entry:
    """optimal.{m,pi,g}[k][l] of zxcvbn's search (l, the sequence length, is *size*).

    pi and g are zxcvbn's Decimals, computed (by the same operations on the same
    operands) only when asked for; the search compares their float shadows
    ``pif``/``gf`` and falls back to the Decimals only when those are too close
    to call.
    """

    __slots__ = ("_g", "_pi", "gf", "guesses", "i", "match", "pif", "prev", "size")

    def __init__(
        self,
        guesses: Decimal,
        prev: _Entry | None,
        size: int,
        pif: float,
        gf: float,
        match: _Match | None,
        i: int,
    ) -> None:
        self.guesses = guesses
        self.prev = prev
        self.size = size
        self.pif = pif
        self.gf = gf
        self.match = match  # None: a bruteforce match from i to k
        self.i = i
        self._pi: Decimal | None = None
        self._g: Decimal | None = None

    @property
    def pi(self) -> Decimal:
        if self._pi is None:
            self._pi = self.guesses if self.prev is None else self.guesses * self.prev.pi
        return self._pi

    @property
    def g(self) -> Decimal:
        if self._g is None:
            self._g = _FACTORIAL[self.size] * self.pi + _GROW[self.size]
        return self._g


def _search(password: str, matches: list[_Match]) -> tuple[Decimal, list[_Match]]:
    """``scoring.most_guessable_match_sequence``: (guesses, optimal match sequence).

    Same updates in the same order with the same Decimal arithmetic; candidates
    that certainly lose are rejected on float approximations first.
    """
    n = len(password)
    by_j: list[list[_Match]] = [[] for _ in range(n)]
    for match in matches:
        by_j[match["j"]].append(match)
    optimal: list[dict[int, _Entry]] = [{} for _ in range(n)]
    factorial_f = _FACTORIAL_F
    grow_f = _GROW_F

    def update(
        row: dict[int, _Entry],
        size: int,
        guesses: Decimal,
        guesses_f: float,
        prev: _Entry | None,
        m: _Match | None,
        i: int,
    ) -> bool:
        """zxcvbn's ``update(m, l)``; *prev* is optimal[i - 1][l - 1], None if l == 1."""
        pi_f = guesses_f if prev is None else guesses_f * prev.pif
        g_f = factorial_f[size] * pi_f + grow_f[size]
        low = g_f * (1 - _EPS)
        high = g_f * (1 + _EPS)
        certain = True
        for competing_size, competing in row.items():
            if competing_size <= size:
                if competing.gf < low:
                    return False
                if competing.gf <= high:
                    certain = False
        entry = _Entry(guesses, prev, size, pi_f, g_f, m, i)
        if not certain:
            g = entry.g
            for competing_size, competing in row.items():
                if competing_size <= size and competing.g <= g:
                    return False
        row[size] = entry
        return True

    # Least pi of a row's entries (of those not ending in bruteforce).
    floor_pi = [math.inf] * n
    floor_pi_after_match = [math.inf] * n
    margin = 1 + 2 * _EPS
    uppercase: dict[str, Any] = {}
    for k in range(n):
        row = optimal[k]
        column = by_j[k]
        column.sort(key=_by_i)
        # Any candidate for size >= 2 competes with the entries for size <= 2 and has
        # g >= 2 * guesses * pi: a whole row of predecessors whose least pi
        # cannot get under their least g is skipped (they would all lose).
        ceiling = math.inf
        least: dict[int, Decimal] = {}
        for m in column:
            guesses = _estimate_guesses(m, password, uppercase)
            i = m["i"]
            # A match over the same (i, j) as an earlier one with no fewer
            # guesses loses every comparison the earlier one made: skip it.
            if i in least and least[i] <= guesses:
                continue
            least[i] = guesses
            guesses_f = float(guesses)
            if i == 0:
                if update(row, 1, guesses, guesses_f, None, m, 0):
                    ceiling = min(ceiling, row[1].gf * margin)
            elif 2.0 * guesses_f * floor_pi[i - 1] <= ceiling:
                for size, prev in list(optimal[i - 1].items()):
                    if update(row, size + 1, guesses, guesses_f, prev, m, i) and size < 2:
                        ceiling = min(ceiling, row[2].gf * margin)
        if update(row, 1, _BRUTEFORCE[k + 1], _BRUTEFORCE_F[k + 1], None, None, 0):
            ceiling = min(ceiling, row[1].gf * margin)
        for i in range(1, k + 1):
            span = k - i + 1
            bruteforce_f = _BRUTEFORCE_F[span]
            if 2.0 * bruteforce_f * floor_pi_after_match[i - 1] > ceiling:
                continue
            bruteforce = _BRUTEFORCE[span]
            for size, prev in optimal[i - 1].items():
                if prev.match is None:
                    continue  # never two bruteforce matches in a row
                if update(row, size + 1, bruteforce, bruteforce_f, prev, None, i) and size < 2:
                    ceiling = min(ceiling, row[2].gf * margin)
        for entry in row.values():
            floor_pi[k] = min(floor_pi[k], entry.pif)
            if entry.match is not None:
                floor_pi_after_match[k] = min(floor_pi_after_match[k], entry.pif)

    # unwind
    row = optimal[n - 1]
    best_size = 0
    best_g: Decimal | float = math.inf
    for candidate_size, entry in row.items():
        if entry.g < best_g:
            best_size, best_g = candidate_size, entry.g
    sequence: list[_Match] = []
    k, size = n - 1, best_size
    while k >= 0:
        entry = optimal[k][size]
        if entry.match is not None:
            match = entry.match
        else:
            token = password[entry.i : k + 1]
            match = {
                "pattern": "bruteforce",
                "token": token,
                "i": entry.i,
                "j": k,
                "guesses": int(_BRUTEFORCE[len(token)]),
            }
        sequence.insert(0, match)
        k = match["i"] - 1
        size -= 1
    return optimal[n - 1][len(sequence)].g, sequence


def _estimate_guesses(match: _Match, password: str, uppercase: dict[str, Any]) -> Decimal:
    """``scoring.estimate_guesses``, caching uppercase variations per token."""
    if match["pattern"] != "dictionary":
        return Decimal(_zscoring.estimate_guesses(match, password))
    token: str = match["token"]
    variations = uppercase.get(token)
    if variations is None:
        variations = uppercase[token] = _zscoring.uppercase_variations(match)
    match["base_guesses"] = match["rank"]
    match["uppercase_variations"] = variations
    match["l33t_variations"] = _zscoring.l33t_variations(match)
    reversed_variations = 2 if match["reversed"] else 1
    guesses = (
        match["base_guesses"]
        * match["uppercase_variations"]
        * match["l33t_variations"]
        * reversed_variations
    )
    if len(token) >= len(password):
        min_guesses = 1
    elif len(token) == 1:
        min_guesses = _MIN_SUBMATCH_SINGLE
    else:
        min_guesses = _MIN_SUBMATCH_MULTI
    match["guesses"] = max(guesses, min_guesses)
    return Decimal(match["guesses"])


def _analyse(password: str, ctx: _Context) -> tuple[Decimal, list[_Match]]:
    """zxcvbn's guesses and optimal match sequence for a non-empty *password*."""
    cached = ctx.cache.get(password)
    if cached is None:
        cached = _search(password, _omnimatch(password, ctx))
        ctx.cache[password] = cached
    return cached


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def _guesses(password: str, ctx: _Context) -> Decimal:
    """zxcvbn's guesses for *password* (exact up to the window, bounded beyond)."""
    if not password:
        return Decimal(1)  # zxcvbn("") raises IndexError; nothing to guess
    with decimal.localcontext(_DECIMAL_CONTEXT):
        if len(password) <= _WINDOW:
            return _analyse(password, ctx)[0]
        return _long_guesses(password, ctx)


def _period_end(password: str, start: int, period: int) -> int:
    """End of the run from *start* in which every character repeats *period* earlier.

    Compares doubling blocks, then bisects the block with the first mismatch:
    O(log n) slice comparisons, done in C.
    """
    n = len(password)
    low = start + period
    step = max(period, 64)
    while low < n:
        high = min(n, low + step)
        if password[low:high] == password[low - period : high - period]:
            low = high
            step *= 2
            continue
        while high - low > 1:
            middle = (low + high) // 2
            if password[low:middle] == password[low - period : middle - period]:
                low = middle
            else:
                high = middle
        return low
    return n


def _long_run(password: str, start: int) -> tuple[int, int, int] | None:
    """A repeat starting in the chunk at *start* that goes on for at least a chunk.

    Found as zxcvbn's repeat matcher finds repeats, in a window of twice the
    analysis window (so bases up to its length show twice); returns (start,
    period, whole repetitions) of the first such run, or None.
    """
    last_index = start
    stop = min(len(password), start + 2 * _WINDOW)
    while last_index < start + _CHUNK:
        greedy = _GREEDY.search(password, last_index, stop)
        lazy = _LAZY.search(password, last_index, stop)
        if not greedy or not lazy or lazy.start() >= start + _CHUNK:
            return None
        if len(greedy.group(0)) > len(lazy.group(0)):
            anchored = _LAZY_ANCHORED.search(greedy.group(0))
            found, base = greedy, (anchored or greedy).group(1)
        else:
            found, base = lazy, lazy.group(1)
        period = len(base)
        end = _period_end(password, found.start(), period)
        if end - found.start() >= _CHUNK:
            return found.start(), period, (end - found.start()) // period
        last_index = found.end()
    return None


def _repeats_earlier_text(password: str, pos: int) -> tuple[int, int]:
    """(period, whole periods) of a run from *pos* repeating the text before it.

    The next chunk is looked up in the ``_LOOK_BACK`` characters before it
    (plus its overlap), in C; if it occurred *period* characters earlier, the
    periodic run is followed to its end.  (0, 0) if the chunk is new.
    """
    head = password[pos : pos + _CHUNK]
    if pos == 0 or len(head) < _CHUNK:
        return 0, 0
    earlier = password.find(head, max(0, pos - _LOOK_BACK), pos + _CHUNK - 1)
    if earlier == -1:
        return 0, 0
    period = pos - earlier
    return period, (_period_end(password, earlier, period) - pos) // period


def _long_guesses(password: str, ctx: _Context) -> Decimal:
    """Guesses for a password longer than the window, from bounded pieces.

    From left to right the password is cut into pieces, each becoming one or
    more matches of one joined match sequence:

    * text repeating the text just before it (``abcabc``, also with periods
      longer than a chunk) multiplies the guesses so far by the number of
      times it is there, as zxcvbn's repeat match does;
    * a run of a repeated base starting in the next chunk (found like zxcvbn's
      repeat matcher, followed in C to its end however long) is one repeat
      match, guesses = base guesses * repetitions;
    * otherwise the next chunk (up to such a run) is analysed exactly, and its
      optimal matches are added; an arithmetic sequence reaching its end is
      followed on for up to ``_SEQUENCE_EXTENSION`` characters.

    The sequence is rated with zxcvbn's formula, l! * prod(guesses) +
    10000**(l - 1), every match at least the 10 or 50 guesses zxcvbn gives a
    match shorter than the password.  That only grows as pieces are added, so
    once it reaches score 4 (at the latest at the 4th match) the loop stops:
    at most 4 chunks are ever analysed, whatever the length.
    """
    n = len(password)
    count = 0
    product = Decimal(1)
    guesses = Decimal(1)
    pos = 0
    while pos < n:
        period, periods = _repeats_earlier_text(password, pos)
        if periods:
            product *= periods + 1
            pos += period * periods
            guesses = math.factorial(count) * product + _D ** (count - 1)
            if guesses >= _SCORE_4_GUESSES:
                break
            continue
        run = _long_run(password, pos)
        pieces: list[tuple[str, Any]]  # (token, guesses) of each new match
        if run is not None and run[0] == pos:
            _, period, repetitions = run
            base_guesses = _analyse(password[pos : pos + period], ctx)[0]
            token = password[pos : pos + period * repetitions]
            pieces = [(token, base_guesses * Decimal(repetitions))]
            pos += len(token)
        else:
            end = min(n, pos + _CHUNK) if run is None else run[0]
            sequence = _analyse(password[pos:end], ctx)[1]
            pieces = [(m["token"], m["guesses"]) for m in sequence]
            last = sequence[-1]
            if run is None and last["pattern"] == "sequence" and last["j"] == end - pos - 1:
                delta = ord(last["token"][1]) - ord(last["token"][0])
                limit = min(n, end + _SEQUENCE_EXTENSION)
                while end < limit and ord(password[end]) - ord(password[end - 1]) == delta:
                    end += 1
                token = password[pos + last["i"] : end]
                extended = {"token": token, "ascending": delta > 0}
                pieces[-1] = (token, _zscoring.sequence_guesses(extended))
            pos = end
        for token, match_guesses in pieces:
            if len(token) == n:
                floor = 1
            elif len(token) == 1:
                floor = _MIN_SUBMATCH_SINGLE
            else:
                floor = _MIN_SUBMATCH_MULTI
            product *= max(Decimal(match_guesses), Decimal(floor))
            count += 1
        guesses = math.factorial(count) * product + _D ** (count - 1)
        if guesses >= _SCORE_4_GUESSES:
            break
    return guesses


def score(password: str, user_inputs: Sequence[str] = ()) -> int:
    """zxcvbn score 0..4 of *password*, with *user_inputs* as context words.

    *user_inputs* are words an attacker would try first: parts of the email
    address, the display name, the shop's name.  Thread-safe, and bounded in
    time for any length of *password*; see the module documentation.
    """
    if not isinstance(password, str):
        raise TypeError("password must be a str")
    ctx = _make_context(user_inputs)
    try:
        guesses = _guesses(password, ctx)
    except Exception:  # pragma: no cover - defensive: a bug must not leak the password
        # Fail closed: the weakest score; the exception (and any part of the
        # password in its message or traceback) is deliberately dropped.
        return 0
    result: int = _ztime.guesses_to_score(guesses)
    return result
