"""The events service's HTTP API: thin routes, one module per resource."""

from weft_events.api import calendars, check_ins, cpd_record, events, rsvps

ROUTERS = [events.router, rsvps.router, check_ins.router, cpd_record.router, calendars.router]
