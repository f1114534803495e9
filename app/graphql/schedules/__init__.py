"""Recurring exports over GraphQL: schedules, their runs, and their mutations."""
