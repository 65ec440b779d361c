"""The baseline: a bare FastAPI `GET /ping -> {"ok": true}` (harness/ping_server.py), served by
uvicorn with the services' settings (uvloop, httptools, access log off, 1 worker). Every
"vs baseline" share in the report is a rate divided by this one, measured in the same run."""

from __future__ import annotations

from harness.runner import Harness, Outcome

NAME = "baseline"
TITLE = "baseline FastAPI /ping"
BASELINE = False


async def run(h: Harness) -> Outcome:
    row = await h.get_row(TITLE, h.stack.ping_port, "/ping", [])
    h.baseline = row
    return Outcome(NAME, TITLE, rows=[row])
