"""The PySide6 desktop shell. Nothing outside this package imports Qt."""
