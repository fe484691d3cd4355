"""Tests of the online intermediary-services marketplace."""
