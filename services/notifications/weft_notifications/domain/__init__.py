"""Rules of the notifications service: no I/O."""
