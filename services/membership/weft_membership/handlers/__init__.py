"""What membership consumes: the parts of personal-data exports."""
