"""The essay lifecycle as plain functions over the coordinator, the database and the essay logic.

Celery tasks in `tasks/` call these and only hand results on, so every step can be tested without a broker.
"""
