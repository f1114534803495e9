"""GraphQL gateway over export jobs for timestamped record streams."""
