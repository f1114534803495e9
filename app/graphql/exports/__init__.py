"""Export jobs: create, follow, list, cancel, delete, estimate."""
