"""Exports for accountability: the Art. 30 records of processing and the Art. 15/20 subject-access export.

Qt-free: the CLI, the headless server and the desktop app all call the same functions.
"""
