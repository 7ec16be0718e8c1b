"""The stages: pure functions over Arrow tables and record batches."""
