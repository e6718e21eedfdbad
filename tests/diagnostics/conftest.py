"""The pytest plugin (`sqlmodel_production.testing`) loads through its pytest11 entry point."""
