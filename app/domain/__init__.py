"""Plain-Python services: the rules of the product, shared by GraphQL, the CLI and workers."""
