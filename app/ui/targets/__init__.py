"""The Targets page: downstream applications, their health, and what each receives."""
