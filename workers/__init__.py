"""The worker side: Dramatiq broker and actors, and the pyarrow export engine."""
