"""The Autoguidance Pair Inspector: where and how much a guide steers the main model."""
