"""Consumers of other services' messages: one top-level function per message type."""
