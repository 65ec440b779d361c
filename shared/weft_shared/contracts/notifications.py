"""Messages the notifications service publishes (few: it mostly consumes)."""

from __future__ import annotations
