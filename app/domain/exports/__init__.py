"""Export jobs: requests and their validation, commands (create, cancel, delete), queries,
the worker's side (claim, progress, finish) and execution, recovery, retention, estimates."""
