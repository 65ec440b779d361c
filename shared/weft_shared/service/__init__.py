"""What every Weft service shares: the runtime (one lifespan), clock, ids, actors,
strict models and keyset cursors."""
