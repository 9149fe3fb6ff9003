"""Encrypted local mirror: SQLAlchemy 2 over SQLCipher 4. Imports app.core only."""
