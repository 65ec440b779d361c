"""Membership rules and guarded state transitions: pure functions, no I/O."""
