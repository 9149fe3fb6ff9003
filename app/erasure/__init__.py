"""Erasure (Art. 17, with Art. 19 notification of recipients): locally at once, at every target with proof."""
