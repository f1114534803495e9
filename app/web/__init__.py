"""The HTTP edge of the gateway, below GraphQL: request ids, request limits, downloads."""
