"""Live collection: subscriptions (what workspaces want collected) and leases (which collector
collects what, spans, and flushes into segments)."""
