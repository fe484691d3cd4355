"""Shipped national holiday schedules, one JSON file per year (`trading.kernel.calendar`)."""
