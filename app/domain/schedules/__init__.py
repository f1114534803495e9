"""Recurring exports: schedules, their periods, runs and the scheduler."""
