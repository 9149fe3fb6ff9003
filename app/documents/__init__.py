"""Rendering of the documents the app hands people (PDF letters, receipts, notifications), below every package
that writes one — exports, subject requests, incidents, erasure — so none of them imports another to print."""
