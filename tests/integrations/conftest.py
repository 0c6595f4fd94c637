"""Integration tests are skipped only when their framework is not installed."""

from __future__ import annotations

import importlib.util

collect_ignore = [
    name
    for name, module in (("flask", "flask"), ("django", "django"))
    if importlib.util.find_spec(module) is None
]
