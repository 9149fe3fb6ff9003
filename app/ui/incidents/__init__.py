"""The Incidents page: the breach register with its live 72-hour countdown."""
