"""File transfer: a 20 MB file uploaded and downloaded through the gateway.

Its own `weft resources` process (its own database) and a gateway in front of it and the
stack's membership. The file is a PNG (the signature, then 20 MB of random bytes): it is
sniffed at once and has no text to extract, so the figures are the transfer itself —
client → gateway → resources (spooled to disk, hashed, into GridFS, one transaction) and
back (streamed from GridFS). Three of each; it prints the median MB/s, and the peak RSS
growth of the resources and gateway processes during an upload (Linux: VmHWM after
resetting it through /proc/<pid>/clear_refs), which stays far below 20 MB when both stream.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import statistics
import time
from pathlib import Path

import aiohttp
from harness.runner import Harness, Outcome
from harness.stack import drop_databases, gateway_env

from weft_cli.procs import free_port
from weft_cli.testing import ServiceProcess

NAME = "file_transfer"
TITLE = "upload and download of a 20 MB file through the gateway"
BASELINE = False
MEGABYTES = 20
ROUNDS = 3
LEARN_TIMEOUT = 60.0
_PNG_HEAD = b"\x89PNG\r\n\x1a\n"


def _memory_kib(pid: int, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    except OSError:
        return False
    return True


class PeakGrowth:
    """The peak RSS growth of a process over a window, in MiB."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.start = 0
        self.exact = False

    def begin(self) -> None:
        self.exact = _reset_peak(self.pid)
        self.start = _memory_kib(self.pid, "VmRSS") or 0

    def end(self) -> float | None:
        peak = _memory_kib(self.pid, "VmHWM" if self.exact else "VmRSS")
        return None if peak is None else max(peak - self.start, 0) / 1024


async def run(h: Harness) -> Outcome:
    suffix = secrets.token_hex(4)
    database = f"weft_resources_bench_{suffix}"
    env = {
        **h.stack.service_env,
        "WEFT_RESOURCES_DATABASE": database,
        "WEFT_RESOURCES_CONSUMER_NAME": f"resources-bench-{suffix}",
    }
    resources = ServiceProcess("resources", env, free_port())
    gateway: ServiceProcess | None = None
    try:
        await asyncio.to_thread(resources.start)
        gateway_vars = {**gateway_env(h.stack.service_env, h.stack.membership.url, h.stack.events.url)}
        gateway_vars["WEFT_GATEWAY_RESOURCES_URL"] = resources.url
        gateway = ServiceProcess("gateway", gateway_vars, free_port())
        await asyncio.to_thread(gateway.start)
        h.log(f"  resources: {resources.url} (pid {resources.pid}); its gateway: {gateway.url} (pid {gateway.pid})")
        return await _measure(h, resources, gateway)
    finally:
        if gateway is not None:
            await asyncio.to_thread(gateway.stop)
        await asyncio.to_thread(resources.stop)
        await asyncio.to_thread(drop_databases, h.stack.database.url, [database])


def suffix_of(community_id: str) -> str:
    return community_id[-8:]


def _listed(values: list[float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values) or "not measured"


def _form(data: bytes, name: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("metadata", json.dumps({"title": f"Bench {name}"}), content_type="application/json")
    form.add_field("file", data, filename=name, content_type="application/octet-stream")
    return form


async def _measure(h: Harness, resources: ServiceProcess, gateway: ServiceProcess) -> Outcome:
    _, owner = h.tokens.fresh_user("fileowner")
    community_id = await h.api.create_community(h.stack.membership.url, owner, "File bench")
    headers = {"Authorization": f"Bearer {owner}"}
    upload_url = f"{gateway.url}/v1/communities/{community_id}/resources/files"
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        deadline = time.perf_counter() + LEARN_TIMEOUT
        while True:  # the resources service learns the community and its owner from the bus
            async with session.post(upload_url, data=_form(_PNG_HEAD + b"x", "probe.png"), headers=headers) as r:
                if r.status == 201:
                    break
            if time.perf_counter() > deadline:
                raise TimeoutError(f"resources did not learn the community's owner (last answer {r.status})")
            await asyncio.sleep(0.2)

        data = _PNG_HEAD + os.urandom(MEGABYTES * 1024 * 1024 - len(_PNG_HEAD))
        digest = hashlib.sha256(data).hexdigest()
        size_mb = len(data) / 1e6
        uploads: list[float] = []
        downloads: list[float] = []
        growth: dict[str, list[float]] = {"resources": [], "gateway": []}
        for round_number in range(ROUNDS):
            watched = {"resources": PeakGrowth(resources.pid), "gateway": PeakGrowth(gateway.pid)}
            for w in watched.values():
                w.begin()
            started = time.perf_counter()
            async with session.post(upload_url, data=_form(data, f"bench-{round_number}.png"), headers=headers) as r:
                answer = await r.json()
                if r.status != 201:
                    raise RuntimeError(f"upload answered {r.status}: {answer}")
            uploads.append(size_mb / (time.perf_counter() - started))
            for process, w in watched.items():
                grown = w.end()
                if grown is not None:
                    growth[process].append(grown)
            if answer["file"]["sha256"] != digest:
                raise RuntimeError("the stored SHA-256 differs from the file's")

            started = time.perf_counter()
            received = hashlib.sha256()
            count = 0
            async with session.get(f"{gateway.url}/v1/resources/{answer['id']}/file", headers=headers) as r:
                if r.status != 200:
                    raise RuntimeError(f"download answered {r.status}")
                async for chunk in r.content.iter_chunked(256 * 1024):
                    received.update(chunk)
                    count += len(chunk)
            downloads.append(size_mb / (time.perf_counter() - started))
            if count != len(data) or received.hexdigest() != digest:
                raise RuntimeError("the download differs from the upload")

        # With an Idempotency-Key the service's middleware reads the whole body before the route:
        # it spools it (memory up to 1 MiB, then disk), so this stays small too.
        keyed = PeakGrowth(resources.pid)
        keyed.begin()
        keyed_headers = {**headers, "Idempotency-Key": f"bench-{suffix_of(community_id)}"}
        async with session.post(upload_url, data=_form(data, "keyed.png"), headers=keyed_headers) as r:
            if r.status != 201:
                raise RuntimeError(f"the keyed upload answered {r.status}: {await r.text()}")
        keyed_growth = keyed.end()

    exact = "peak (VmHWM)" if watched["resources"].exact else "sampled after (VmRSS)"
    details = [
        f"upload of {size_mb:.1f} MB through the gateway: {statistics.median(uploads):,.1f} MB/s median "
        f"(runs: {', '.join(f'{u:.1f}' for u in uploads)})",
        f"download: {statistics.median(downloads):,.1f} MB/s median (runs: {', '.join(f'{d:.1f}' for d in downloads)})",
        f"RSS growth during each upload, {exact}, MiB: resources {_listed(growth['resources'])}, "
        f"gateway {_listed(growth['gateway'])} (the file: {len(data) / 2**20:.0f} MiB)",
        f"RSS growth of resources during an upload with an Idempotency-Key: "
        f"{_listed([keyed_growth] if keyed_growth is not None else [])} MiB",
    ]
    for line in details:
        h.log(f"  {line}")
    return Outcome(NAME, TITLE, details=details)
