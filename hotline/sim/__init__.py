"""Phone simulators."""
