"""Qt-free core shared by the desktop app, the headless server, the CLI and the tests."""
