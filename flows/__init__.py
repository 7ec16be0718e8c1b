"""Prefect flows, recipes and the `tracemill` command line."""
