"""The guarantor's own system: ``python -m trading.guarantees.client``. Runs on the guarantor's machines with
its own certificate and key and talks to the platform only through the signed guarantor API.
"""
