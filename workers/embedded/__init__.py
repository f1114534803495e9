"""Embedded mode's worker process: the gateway starts it, wakes it and hears its events over
one local socket (`channel`), and restarts it when it dies (`supervisor`); the process runs
the same actors as `python -m app worker` (`process`)."""
