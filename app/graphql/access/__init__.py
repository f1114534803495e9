"""Who is calling, and for admins: the workspace's API keys and settings."""
