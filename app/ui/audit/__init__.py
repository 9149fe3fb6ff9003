"""The audit timeline page."""
