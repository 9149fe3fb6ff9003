"""One module per command-line command group (``policy``, ``export``, ``audit``…), each Qt-free.

Each module has ``register(commands, add_data_dir)``, which adds its sub-parser, and ``run(args) -> int``.
``app.cli`` finds them by name in ``COMMAND_MODULES``. Printed formats are a contract for operators' scripts.
"""
