"""The notifications service's use cases: one function per thing it does."""
