"""SIEM output (CEF, OCSF/ECS JSON over syslog RFC 5424/5425) and anomaly alerts (Qt-free)."""
