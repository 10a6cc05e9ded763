"""A main model and its guide as a pair: checks before loading, and the guide's own weights."""
