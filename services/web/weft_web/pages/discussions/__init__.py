"""Discussions: a community's threads, one thread with its replies, and moderation."""
