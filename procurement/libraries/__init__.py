"""Procurement libraries: purchasers (budget units), suppliers and the commodity catalogue (品目)."""
