"""zxcvbn's own scoring modules, loaded without zxcvbn's package initialiser.

``import zxcvbn`` (or of any of its modules) first runs ``zxcvbn/__init__.py``,
which imports ``zxcvbn.matching``, which builds ranked dictionaries from the
frequency lists: about 15 ms and 12 MiB in every process.  wsactions ships
those dictionaries prebuilt (``strength_data/lexicon.bin``) and its matchers
are its own; of zxcvbn it needs the scoring (``scoring``, with the keyboard
graphs of ``adjacency_graphs``) and the score thresholds (``time_estimates``),
three modules that import nothing of zxcvbn but each other, relatively.

So this package's search path is the installed zxcvbn's directory:
``wsactions.security._zx.scoring`` is zxcvbn's ``scoring.py``, loaded (once,
from zxcvbn's own compiled files) under this name.  Nothing is copied; the
pinned zxcvbn version and the tests comparing scores with ``zxcvbn.zxcvbn``
keep it honest.
"""

from __future__ import annotations

import importlib.util

_spec = importlib.util.find_spec("zxcvbn")  # finds, does not import, the package
if _spec is None or not _spec.submodule_search_locations:  # pragma: no cover
    raise ImportError("wsactions needs the zxcvbn package (pip install zxcvbn)")
__path__ = list(_spec.submodule_search_locations)
