"""Imports over the API: uploads, import jobs, their progress and rejected records."""
