"""Backup and migration over the API: resources exported as CSV or JSON, and imported."""
