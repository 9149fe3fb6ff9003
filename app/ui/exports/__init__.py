"""The app's export actions: the Art. 30 records dialog and "Export subject data" on an identity."""
