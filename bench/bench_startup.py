"""Fresh-process cost: import, and the first CheckPasswordStrength.

Run by hand: ``python bench/bench_startup.py [runs] [--importtime]``.
Each scenario is a new interpreter (same Python, same ``sys.path``); the
scenarios are interleaved and run *runs* times (default 7); wall time
(spawn to exit) and peak RSS (``os.wait4``'s ``ru_maxrss`` of that child)
are reported as medians.  The engine scenarios also time the first
CheckPasswordStrength from inside the process (perf_counter, and peak RSS
before and after).  Target (issue "Fast from the first request"): the first
CheckPasswordStrength in a fresh process costs < 50 ms and < 10 MiB on top
of the process that is ready to serve it.  ``--importtime`` adds the top
cumulative import costs of ``import wsactions`` (``python -X importtime``).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

# Children compile each module once (the warm-up run) into a private cache, as an
# installed wheel ships its .pyc files; PYTHONDONTWRITEBYTECODE would make every run
# compile every module from source and measure the compiler instead.
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
_ENV["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="wsactions-bench-pycache-")

SETUP = """
import resource, time
import wsactions
from wsactions.testing import Harness
shop = Harness()
shop.registry.event_sink = None
client = shop.client()
"""
FIRST_CALL = """
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
result = client.submit("CheckPasswordStrength", password="Tr0ub4dor&3")
elapsed = time.perf_counter() - start
assert result.success
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss
print(f"{elapsed * 1000:.3f} {grown}")
"""

SCENARIOS = {
    "python -c pass": "pass",
    "import zxcvbn": "import zxcvbn",
    "import attrs (a dependency)": "import attrs",
    "import argon2 (a dependency)": "import argon2",
    "import attrs, argon2": "import attrs, argon2",
    "import wsactions": "import wsactions",
    "Harness ready, no call": SETUP,
    "Harness + first CheckPasswordStrength": SETUP + FIRST_CALL,
    "zxcvbn first call": 'import zxcvbn\nzxcvbn.zxcvbn("Tr0ub4dor&3")',
}


def _run(code: str) -> tuple[float, int, str]:
    """(wall seconds, peak RSS KiB, stdout) of one fresh interpreter running *code*."""
    start = time.perf_counter()
    command = [sys.executable, "-c", code]  # our own fixed scenarios
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=_ENV)  # noqa: S603
    assert child.stdout is not None
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"scenario failed ({child.returncode}):\n{code}")
    return wall, usage.ru_maxrss, out  # ru_maxrss: KiB on Linux


def _importtime(top: int = 12) -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import wsactions"],
        capture_output=True,
        text=True,
        check=True,
        env=_ENV,
    )
    rows = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cumulative_us, name = line.split(":", 1)[1].split("|", 2)
        rows.append((int(cumulative_us), int(self_us), name.strip()))
    rows.sort(reverse=True)
    print(f"\nimport wsactions, top {top} cumulative import times (-X importtime):")
    for cumulative, own, name in rows[:top]:
        print(f"  {cumulative / 1000:8.1f} ms  (self {own / 1000:6.1f} ms)  {name}")


def main(runs: int = 7, importtime: bool = False) -> None:
    walls: dict[str, list[float]] = {name: [] for name in SCENARIOS}
    rss: dict[str, list[int]] = {name: [] for name in SCENARIOS}
    inner_ms: list[float] = []
    inner_kib: list[int] = []
    for code in SCENARIOS.values():  # warm the disk cache and .pyc files
        _run(code)
    for _ in range(runs):
        for name, code in SCENARIOS.items():
            wall, peak, out = _run(code)
            walls[name].append(wall)
            rss[name].append(peak)
            if out.strip():
                ms, kib = out.split()
                inner_ms.append(float(ms))
                inner_kib.append(int(kib))
    wall = {name: statistics.median(values) * 1000 for name, values in walls.items()}
    peak = {name: statistics.median(values) / 1024 for name, values in rss.items()}
    print(f"{'scenario (fresh process)':40s} {'wall ms':>8s} {'peak RSS MiB':>13s}")
    for name in SCENARIOS:
        print(f"{name:40s} {wall[name]:8.1f} {peak[name]:13.1f}")
    print(f"(medians of {runs} interleaved runs)")

    first = "Harness + first CheckPasswordStrength"
    print()
    time_ratio = wall["import wsactions"] / wall["import zxcvbn"]
    rss_ratio = peak["import wsactions"] / peak["import zxcvbn"]
    attrs_ratio = wall["import attrs (a dependency)"] / wall["import zxcvbn"]
    print(f"import wsactions / import zxcvbn:        time {time_ratio:.2f}x, RSS {rss_ratio:.2f}x")
    print(f"import attrs / import zxcvbn:            time {attrs_ratio:.2f}x")
    both = wall["import attrs, argon2"]
    summed = wall["import attrs (a dependency)"] + wall["import argon2 (a dependency)"]
    print(
        f"import wsactions / import attrs + import argon2 (two processes, summed): "
        f"{wall['import wsactions'] / summed:.2f}x  (goal <= 1.5x)"
    )
    print(
        f"import wsactions / import attrs, argon2 (one process):                  "
        f"{wall['import wsactions'] / both:.2f}x"
    )
    print(
        f"first CheckPasswordStrength - import wsactions: "
        f"{wall[first] - wall['import wsactions']:+.1f} ms, "
        f"{peak[first] - peak['import wsactions']:+.1f} MiB"
        "  (includes building the Harness)"
    )
    print(
        f"first CheckPasswordStrength - Harness ready:    "
        f"{wall[first] - wall['Harness ready, no call']:+.1f} ms, "
        f"{peak[first] - peak['Harness ready, no call']:+.1f} MiB"
    )
    print(
        f"first CheckPasswordStrength, in process:        "
        f"{statistics.median(inner_ms):.1f} ms, "
        f"{statistics.median(inner_kib) / 1024:+.1f} MiB peak RSS"
        "  (target < 50 ms, < 10 MiB)"
    )
    print(
        f"zxcvbn first call - import zxcvbn:              "
        f"{wall['zxcvbn first call'] - wall['import zxcvbn']:+.1f} ms, "
        f"{peak['zxcvbn first call'] - peak['import zxcvbn']:+.1f} MiB"
    )
    if importtime:
        _importtime()


if __name__ == "__main__":
    args = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    main(int(args[0]) if args else 7, "--importtime" in sys.argv)
