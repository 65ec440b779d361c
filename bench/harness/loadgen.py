"""A small closed-loop HTTP load generator (asyncio), plus an optional wrk runner.

Closed loop: each of N connections sends a request, waits for the whole answer,
then sends the next one, so the offered load adapts to what the server sustains
and the latency is that of one request under N-way concurrency.

Two clients speak HTTP/1.1 keep-alive to 127.0.0.1:
- "raw": asyncio streams on uvloop, requests pre-serialised to bytes. It costs
  a fraction of aiohttp's CPU per request, which matters on a 2-core machine
  where the generator competes with the servers it measures (the default);
- "aiohttp": aiohttp's ClientSession, the ordinary library choice.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import aiohttp

from harness import stats

HOST = "127.0.0.1"
ClientKind = Literal["raw", "aiohttp"]
# One request or no more (the pool of one-shot requests, e.g. fresh users, is used up).
NextRequest = Callable[[int], "HttpRequest | None"]
# Told about every answer (request, HTTP status), e.g. to learn which fresh users joined.
OnAnswer = Callable[["HttpRequest", int], None]


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One request, with its HTTP/1.1 bytes serialised up front (outside any timed window)."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    wire: bytes  # what the raw client writes
    tag: str = ""  # the caller's own label, e.g. the user a request acts as


def http_request(
    port: int,
    method: str,
    path: str,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes | None = None,
    *,
    tag: str = "",
) -> HttpRequest:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    wire = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
    return HttpRequest(method, path, tuple(headers), body, wire, tag)


@dataclass
class Result:
    """One measured window of one scenario."""

    requests: int = 0  # answered with an expected status, within the window
    elapsed: float = 0.0  # seconds from the window's start to the last answer
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests only
    errors: Counter[str] = field(default_factory=Counter)  # "status 500", "ReadError", ...
    exhausted: bool = False  # stopped early: the pool of one-shot requests ran out
    client: str = ""
    # wrk reports percentiles itself (50, 75, 90, 99); they are kept here as there is no latency list then.
    wrk_ms: dict[int, float] = field(default_factory=dict)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def rps(self) -> float:
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0

    def percentile_ms(self, pct: int) -> float:
        """Latency at `pct` in ms (harness.stats.percentile); from wrk's own figures for a wrk run."""
        if self.client == "wrk":
            return self.wrk_ms.get(pct, float("nan"))
        return stats.percentile_ms(self.latencies, pct)

    @property
    def p50_ms(self) -> float:
        return self.percentile_ms(50)

    @property
    def p95_ms(self) -> float:
        return self.percentile_ms(95)

    @property
    def p99_ms(self) -> float:
        return self.percentile_ms(99)


class Window(Protocol):
    """Told when the measured window starts and ends (after the warm-up), e.g. to sample CPU."""

    def started(self) -> None: ...

    def ended(self) -> None: ...


class _Connection(Protocol):
    async def send(self, request: HttpRequest) -> int: ...

    async def close(self) -> None: ...


class _RawConnection:
    """One keep-alive connection; reconnects after an error or `Connection: close`."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def send(self, request: HttpRequest) -> int:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(HOST, self.port)
        reader, writer = self._reader, self._writer
        assert reader is not None
        try:
            writer.write(request.wire)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            chunked = close = False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
                elif name == b"connection" and b"close" in value.lower():
                    close = True
            if chunked:
                while True:
                    size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    await reader.readexactly(size + 2)
                    if size == 0:
                        break
            elif length:
                await reader.readexactly(length)
        except BaseException:
            await self.close()
            raise
        if close:
            await self.close()
        return status

    async def close(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class _AiohttpConnection:
    """A worker's handle on a shared aiohttp session (whose pool holds the connections)."""

    def __init__(self, session: aiohttp.ClientSession, port: int) -> None:
        self._session = session
        self._base = f"http://{HOST}:{port}"

    async def send(self, request: HttpRequest) -> int:
        async with self._session.request(
            request.method, self._base + request.path, headers=dict(request.headers), data=request.body
        ) as response:
            await response.read()
            return response.status

    async def close(self) -> None:
        return None


async def run_closed_loop(
    port: int,
    next_request: NextRequest,
    *,
    expected: frozenset[int],
    concurrency: int,
    warmup: float,
    duration: float,
    max_requests: int,
    client: ClientKind = "raw",
    request_timeout: float = 10.0,
    window: Window | None = None,
    on_answer: OnAnswer | None = None,
) -> Result:
    """Warm up for `warmup` seconds, then measure for `duration` seconds (or `max_requests`).

    `next_request(worker_index)` gives each request (None: stop this worker). Every request is
    bounded by `request_timeout`, so the whole run ends by itself after about
    warmup + duration + request_timeout seconds at worst. `on_answer` hears of every answer,
    warm-up included.
    """
    session: aiohttp.ClientSession | None = None
    connections: list[_Connection]
    if client == "raw":
        connections = [_RawConnection(port) for _ in range(concurrency)]
    else:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency, force_close=False),
            timeout=aiohttp.ClientTimeout(total=None),
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        connections = [_AiohttpConnection(session, port) for _ in range(concurrency)]
    try:
        if warmup > 0:
            await _phase(connections, next_request, expected, warmup, max_requests, request_timeout, on_answer)
        if window is not None:
            window.started()
        result = await _phase(connections, next_request, expected, duration, max_requests, request_timeout, on_answer)
        if window is not None:
            window.ended()
        result.client = client
        return result
    finally:
        for conn in connections:
            await conn.close()
        if session is not None:
            await session.close()


async def _phase(
    connections: Sequence[_Connection],
    next_request: NextRequest,
    expected: frozenset[int],
    duration: float,
    max_requests: int,
    request_timeout: float,
    on_answer: OnAnswer | None,
) -> Result:
    result = Result()
    started = time.perf_counter()
    deadline = started + duration
    last_answer = started
    issued = 0

    async def worker(index: int, conn: _Connection) -> None:
        nonlocal issued, last_answer
        perf = time.perf_counter
        latencies = result.latencies
        while perf() < deadline and issued < max_requests:
            request = next_request(index)
            if request is None:
                result.exhausted = True
                return
            issued += 1
            sent = perf()
            try:
                async with asyncio.timeout(request_timeout):  # no extra task per request, unlike wait_for
                    status = await conn.send(request)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                result.errors[type(exc).__name__] += 1
                continue
            except TimeoutError:
                result.errors["timeout"] += 1
                continue
            except aiohttp.ClientError as exc:
                result.errors[type(exc).__name__] += 1
                continue
            answered = perf()
            last_answer = max(last_answer, answered)
            if on_answer is not None:
                on_answer(request, status)
            if status in expected:
                result.requests += 1
                latencies.append(answered - sent)
            else:
                result.errors[f"status {status}"] += 1

    await asyncio.gather(*(worker(i, conn) for i, conn in enumerate(connections)))
    result.elapsed = last_answer - started
    return result


# --- wrk (optional, GET scenarios only) -----------------------------------------


def wrk_path() -> str | None:
    return shutil.which("wrk")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if match is None:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def run_wrk(
    port: int,
    path: str,
    headers: Sequence[tuple[str, str]],
    *,
    concurrency: int,
    warmup: float,
    duration: float,
    request_timeout: float = 10.0,
    window: Window | None = None,
) -> Result:
    """GET `path` with wrk (1 thread): a warm-up run, then the measured run."""
    binary = wrk_path()
    if binary is None:
        raise FileNotFoundError("wrk is not installed")

    def argv(seconds: float) -> list[str]:
        args = [binary, "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--latency"]
        args += [f"--timeout={max(1, round(request_timeout))}s"]
        for name, value in headers:
            args += ["-H", f"{name}: {value}"]
        return [*args, f"http://{HOST}:{port}{path}"]

    bound = warmup + duration + 2 * request_timeout + 30
    if warmup > 0:
        subprocess.run(argv(warmup), capture_output=True, text=True, check=True, timeout=bound)
    if window is not None:
        window.started()
    out = subprocess.run(argv(duration), capture_output=True, text=True, check=True, timeout=bound).stdout
    if window is not None:
        window.ended()
    return parse_wrk(out)


def parse_wrk(out: str) -> Result:
    result = Result(client="wrk")
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    if done is None:
        raise ValueError(f"could not read wrk's output:\n{out}")
    total = int(done.group(1))
    result.elapsed = _ms(done.group(2) + done.group(3)) / 1000.0
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("50%", "75%", "90%", "99%"):
            result.wrk_ms[int(parts[0][:-1])] = _ms(parts[1])
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        result.errors["non-2xx/3xx"] = int(non2xx.group(1))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        for name, value in zip(("connect", "read", "write", "timeout"), sock.groups(), strict=True):
            if int(value):
                result.errors[f"socket {name}"] = int(value)
    result.requests = max(0, total - result.errors["non-2xx/3xx"])
    return result


def cycle_per_worker(requests: Sequence[HttpRequest]) -> NextRequest:
    """Worker i sends requests[i % len] again and again (a fixed request per connection)."""

    def next_request(index: int) -> HttpRequest:
        return requests[index % len(requests)]

    return next_request


def one_shot(requests: Iterator[HttpRequest]) -> NextRequest:
    """Each request is sent once, by whichever worker is free; None when they are used up."""

    def next_request(index: int) -> HttpRequest | None:
        return next(requests, None)

    return next_request
