"""Setting Custos up: the endpoint's address, its certificate and the first run. Qt-free, shared by app and CLI."""
