"""Training: fit loop, callbacks, metrics."""
