"""The events service's rules: who may see, manage and book an event, seats and
waitlists, recurrence, reminders, check-ins. Pure functions of documents; no I/O."""
