"""The bench harness: what every scenario uses.

- `stack`: starts nats-server, the database (the project's ladder), the services and the bare
  baseline, each its own process on a free 127.0.0.1 port, and stops them by PID;
- `loadgen`: the closed-loop HTTP load generator;
- `stats`: the one percentile implementation (nearest rank);
- `cpu`: CPU seconds per process and for the whole machine around a measured window;
- `api` and `bus`: the services' HTTP API and the NATS bus, for setup and checks outside the
  timed windows;
- `runner`: the `Harness` object a scenario receives, and the shapes it hands back (`Row`,
  `Comparison`, `Outcome`) for the report.
"""
