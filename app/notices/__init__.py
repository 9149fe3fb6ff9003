"""Desktop notices (tray notifications), decided here without Qt: what to say, when, and how often.

The app's tray only shows what these modules hand it: a notice built from rule names, counts, ids and clocks
(never a personal value), at most one per kind per interval with a count of what was folded in.
"""
