"""Tests of the procurement libraries (purchasers, suppliers, item catalogue)."""
