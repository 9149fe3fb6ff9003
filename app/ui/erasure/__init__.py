"""The erasure workflow in the app: preview, typed confirmation, passphrase, live per-target progress, receipt."""
