"""The pytest plugin of sqlmodel-production (registered under the `pytest11` entry point)."""
