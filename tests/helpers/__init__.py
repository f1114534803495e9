"""Helpers shared by the test layers: processes, clients, services, data and operations.
They are plain modules: test modules import from here, never from each other."""
