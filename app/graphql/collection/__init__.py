"""Live collection: subscribe to a datastream and watch what is collected (spans)."""
