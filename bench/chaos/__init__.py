"""The fault run (`make chaos`): a mixed load through the gateway while every piece of the
stack is killed or restarted, then an audit of every 2xx answer against the databases and
the stream.

- `stack`: NATS, the database and the services on fixed ports with their own data folders,
  so each can be killed and started again in place;
- `faults`: the schedule of faults and how each is injected and recovered from;
- `load`: the clients (retrying 502/503/504 and connection errors, one `Idempotency-Key` per
  logical request) and the log of what each person was answered, in order;
- `audit`: what the databases and the stream hold, compared with that log;
- `run`: the whole run and its figures (`python -m chaos`, with `bench/` on the path).
"""
