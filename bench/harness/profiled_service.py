"""`weft <service>` with cProfile switched on and off by signals, for `bench/run.py --profile` (bench/profile_pass.py).

    python bench/harness/profiled_service.py gateway /tmp/gateway.prof

Serves the service exactly as `weft <service>` does (weft_cli.serve). SIGUSR1 starts a
fresh profile; SIGUSR2 stops it and writes it to `<out>.<n>` (pstats format, n = 1, 2, ...),
so the benchmark profiles its measured windows only, not start-up or warm-up. uvicorn runs
the app on the main thread's event loop, which is the thread the handlers run on and the
one cProfile sees. Time the event loop spends in its own C code (socket I/O, epoll, idle)
is in no Python frame, so it is not in the profile: the benchmark shows it as the part of
the window's wall time the profile does not cover.
"""

from __future__ import annotations

import cProfile
import os
import signal
import sys
from types import FrameType

from weft_cli.serve import serve
from weft_cli.services import SERVICES


class SignalProfiler:
    def __init__(self, out: str) -> None:
        self.out = out
        self.written = 0
        self._profile: cProfile.Profile | None = None

    def start(self, signum: int, frame: FrameType | None) -> None:
        if self._profile is None:
            self._profile = cProfile.Profile()
            self._profile.enable()

    def stop(self, signum: int, frame: FrameType | None) -> None:
        profile, self._profile = self._profile, None
        if profile is not None:
            profile.disable()
            self.written += 1
            final = f"{self.out}.{self.written}"
            profile.dump_stats(final + ".partial")
            os.replace(final + ".partial", final)  # the benchmark sees the whole file or none


def main() -> None:
    name, out = sys.argv[1], sys.argv[2]
    profiler = SignalProfiler(out)
    signal.signal(signal.SIGUSR1, profiler.start)
    signal.signal(signal.SIGUSR2, profiler.stop)
    serve(SERVICES[name])


if __name__ == "__main__":
    main()
