"""Where tables live: the catalog store, Hub export and model resolution."""
