"""One function per use case; each takes an explicit actor."""
