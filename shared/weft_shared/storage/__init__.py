"""Storage plumbing: the client lifecycle (`client`) and the unit of work (`unit_of_work`).

Import from the modules themselves: the unit of work builds on the outbox, which
builds on the client, so this package re-exports nothing that would tie them in a loop.
"""
