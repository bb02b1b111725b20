"""The project's own experiments."""
