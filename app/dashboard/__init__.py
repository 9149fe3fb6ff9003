"""The Overview as a dashboard: the figures a DPO reads at a glance, computed without Qt (app/ui only draws them)."""
