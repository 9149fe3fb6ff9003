"""The Policy page: the agreed schema in force, its history and diffs, and applying a new version."""
