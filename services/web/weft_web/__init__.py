"""Weft's web app: server-rendered pages for members, facilitators and hosts, a client of the gateway."""
