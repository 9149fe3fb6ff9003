"""The first-run assistant: a thin QWizard over app.setup.first_run."""
