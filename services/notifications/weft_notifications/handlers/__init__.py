"""Consumed messages: one module per publishing service, one function per message type."""
