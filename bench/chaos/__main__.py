"""`make chaos` (= `python -m chaos` with bench/ on the path): the fault run, its figures,
and exit status 1 if any count is not 0.

    make chaos ARGS="--seconds 60 --max-requests 1500 --clients 8 --verbose"
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import fields

from chaos.run import ChaosConfig, run_chaos


def parse_args(argv: list[str] | None = None) -> ChaosConfig:
    parser = argparse.ArgumentParser(prog="make chaos", description=__doc__.split("\n\n")[0])
    defaults = ChaosConfig()
    for spec in fields(ChaosConfig):
        flag = "--" + spec.name.replace("_", "-")
        default = getattr(defaults, spec.name)
        if isinstance(default, bool):
            parser.add_argument(flag, action="store_true")
        else:
            parser.add_argument(flag, type=type(default), default=default, help=f"default {default}")
    return ChaosConfig(**vars(parser.parse_args(argv)))


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    print(f"weft chaos: {config}", flush=True)
    report = asyncio.run(run_chaos(config, log=lambda line: print(f"chaos | {line}", flush=True)))
    print("\n".join(report.lines()), flush=True)
    return 1 if any(report.problems().values()) else 0


if __name__ == "__main__":
    sys.exit(main())
