"""Reading a service's cProfile stats into "where the time went": by package, then top functions.

The profile covers one measured window (bench/profiled_service.py switches it on and off).
`tottime` (self time, wall clock) is what is summed: it adds up without double counting.
The event loop's own C code (uvloop: socket reads and writes, epoll, idle waiting) runs
in no Python frame, so it is the part of the window the profile does not cover.
cProfile's overhead inflates code that makes many small Python calls, so the shares
are a guide to where to look, not exact costs.
"""

from __future__ import annotations

import pstats
import re
from dataclasses import dataclass
from pathlib import Path

_SITE = re.compile(r"[/\\]site-packages[/\\]([^/\\]+)")
_WEFT = re.compile(r"[/\\](weft_[a-z_]+)[/\\]")
_STDLIB = re.compile(r"[/\\]lib[/\\]python3\.\d+[/\\]([^/\\]+)")

FuncKey = tuple[str, int, str]


@dataclass(frozen=True)
class Summary:
    wall: float  # seconds the window lasted
    profiled: float  # seconds of self time in Python frames and the C functions they called
    by_package: list[tuple[str, float]]
    top: list[tuple[str, str, float, int]]  # (package, function, self seconds, calls)


def package_of(key: FuncKey) -> str:
    filename, _line, func = key
    if filename == "~":  # a C function called from Python: name it by its owner where the name says it
        owner = re.search(r"of '([A-Za-z_][\w.]*)", func)
        if owner:
            return "C: " + owner.group(1).split(".")[0]
        builtin = re.search(r"built-in method ([\w.]+)", func)
        if builtin and "." in builtin.group(1):
            return "C: " + builtin.group(1).split(".")[0]
        return "C: builtins"
    for pattern in (_WEFT, _SITE):
        match = pattern.search(filename)
        if match:
            return match.group(1).removesuffix(".py").split(".")[0]
    match = _STDLIB.search(filename)
    if match:
        return "stdlib " + match.group(1).removesuffix(".py")
    return Path(filename).name


def summarize(path: Path, wall: float, top: int = 10) -> Summary:
    stats = pstats.Stats(str(path))
    raw: dict[FuncKey, tuple[int, int, float, float, object]] = stats.stats  # type: ignore[attr-defined]
    packages: dict[str, float] = {}
    functions: list[tuple[str, str, float, int]] = []
    for key, (_primitive, calls, tottime, _cumtime, _callers) in raw.items():
        package = package_of(key)
        packages[package] = packages.get(package, 0.0) + tottime
        filename, line, func = key
        where = func if filename == "~" else f"{func} ({Path(filename).name}:{line})"
        functions.append((package, where, tottime, calls))
    functions.sort(key=lambda f: f[2], reverse=True)
    return Summary(
        wall=wall,
        profiled=sum(packages.values()),
        by_package=sorted(packages.items(), key=lambda p: p[1], reverse=True),
        top=functions[:top],
    )


def render(title: str, summary: Summary, requests: int, packages: int = 8) -> list[str]:
    outside = max(0.0, summary.wall - summary.profiled)
    per_request = 1e6 * summary.profiled / max(1, requests)
    lines = [
        f"{title}: {summary.wall:.1f} s window, {requests:,} requests; in Python frames {summary.profiled:.2f} s "
        f"({per_request:,.0f} µs/request), outside them {outside:.2f} s (event loop C code: socket I/O, epoll, idle)",
    ]
    lines += [
        f"    {100 * seconds / summary.profiled:5.1f} %  {name}"
        for name, seconds in summary.by_package[:packages]
        if summary.profiled > 0
    ]
    lines.append("  top functions by self time:")
    lines += [
        f"    {100 * seconds / summary.profiled:5.1f} %  {calls:>8,} calls  [{package}] {where}"
        for package, where, seconds, calls in summary.top
        if summary.profiled > 0
    ]
    return lines
