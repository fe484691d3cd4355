"""The composition root: app factory, routing, Celery app, CLI and migrations.

It imports every package and nothing imports it (only its own migrations' env.py and the tests).
"""
