"""Diagnostics tests load the pytest plugin the way an installed package would."""

pytest_plugins = ["sqlmodel_production.testing"]
