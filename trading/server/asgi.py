"""The ASGI entry point for uvicorn and other servers: ``trading.server.asgi:app``."""

from trading.server.app import create_app

app = create_app()
