"""Weft developer tooling: the `weft` CLI, the local dev stack and the test harness helpers."""
