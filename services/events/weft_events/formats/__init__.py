"""Renderings of responses that are not JSON (iCalendar, CSV). Pure: no I/O."""
