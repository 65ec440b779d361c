"""Who holds a TCP port: the process listening on it, from /proc (Linux; best effort)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

_LISTEN = "0A"  # TCP state in /proc/net/tcp
_PROC = Path("/proc")


def _listening_socket_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        try:
            rows = (_PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            # sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
            if len(fields) > 9 and fields[3] == _LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def describe_process(pid: int) -> str:
    """`pid 123 (python3 -m http.server 8080)`, the command line cut to a readable length."""
    try:
        argv = (_PROC / str(pid) / "cmdline").read_bytes().rstrip(b"\0").split(b"\0")
        command = " ".join(" ".join(arg.decode(errors="replace") for arg in argv).split())
    except OSError:
        command = ""
    if len(command) > 100:
        command = command[:97] + "..."
    return f"pid {pid} ({command})" if command else f"pid {pid}"


def port_holder_pids(port: int) -> list[int]:
    """The processes with a socket listening on `port` that this user may look at."""
    wanted = {f"socket:[{inode}]" for inode in _listening_socket_inodes(port)}
    if not wanted:
        return []
    holders = []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):  # gone meanwhile, or another user's
            if any(os.readlink(fd) in wanted for fd in (entry / "fd").iterdir()):
                holders.append(int(entry.name))
    return sorted(holders)


def port_holder(port: int) -> str:
    """Who listens on `port`, in words, as far as this machine tells us."""
    if not _PROC.joinpath("net", "tcp").is_file():
        return "a process this system does not name (no /proc)"
    pids = port_holder_pids(port)
    if pids:
        return ", ".join(describe_process(pid) for pid in pids)
    if _listening_socket_inodes(port):
        return "a process of another user (run `sudo ss -ltnp` to see it)"
    return "a socket that is bound but not listening"
