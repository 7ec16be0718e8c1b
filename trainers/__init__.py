"""Thin trainer stages over TRL that read built datasets from the catalog."""
