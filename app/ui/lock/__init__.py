"""Locking the desktop app: the lock screen, idle auto-lock, re-authentication, and clipboard hygiene."""
