"""The breach register (Art. 33(5)) and the 72-hour clock (Qt-free)."""
