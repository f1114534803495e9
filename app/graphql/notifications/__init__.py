"""Webhooks, email notifications and deliveries over GraphQL."""
