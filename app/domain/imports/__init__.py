"""Imports over the API: files of records uploaded by clients and read into datastreams by
workers, as jobs (QUEUED → RUNNING → SUCCEEDED | FAILED | CANCELED)."""
