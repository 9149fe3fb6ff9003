"""The register of data subject requests (Art. 12 and 15–22): intake, the Art. 12(3) clock, what was done, the
answer (Qt-free)."""
