"""Membership's background work."""
