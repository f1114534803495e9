"""Notifications: webhooks and emails telling a workspace what happened to its jobs.

Events are recorded in the transaction of the change they tell about (`events.record_event`,
an outbox), fanned out to one delivery per matching webhook or email notification
(`dispatch`), and delivered by a worker (`delivery`), retried with backoff, every attempt
recorded. Each step is a conditional update, so a crash anywhere loses nothing and several
gateways and workers do each thing once."""
