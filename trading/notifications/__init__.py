"""Notifications: an inbox per user and per organisation, and e-mail sent after commit.

Domains publish with `trading.notifications.service.publish`; see AGENTS.md in this package.
"""
