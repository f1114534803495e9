"""The GraphQL API: thin Strawberry types and resolvers over app.domain."""
