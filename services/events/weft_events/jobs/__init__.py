"""Background work of the events service, going through use cases like everything else."""
