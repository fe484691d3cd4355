"""``ggzy agent``: run the local certificate agent for a PKCS#11 token (see ``docs/agent.md``)."""

from __future__ import annotations

import logging
import os
import sys

import click

from certs.agent.confirm import TerminalConfirmer
from certs.agent.server import Agent, check_origin, make_server
from certs.agent.token import Token, TokenRefused

DEFAULT_PORT = 17321
PIN_VARIABLE = "GGZY_AGENT_PIN"


def _origins(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> frozenset[str]:
    try:
        return frozenset(check_origin(value) for value in values)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("agent")
@click.option(
    "--module",
    required=True,
    envvar="GGZY_AGENT_MODULE",
    type=click.Path(exists=True, dir_okay=False),
    help="The token's PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so or the USB key vendor's .so.",
)
@click.option("--token-label", required=True, envvar="GGZY_AGENT_TOKEN_LABEL", help="The token's label.")
@click.option(
    "--allow-origin",
    "origins",
    multiple=True,
    envvar="GGZY_AGENT_ALLOW_ORIGINS",
    callback=_origins,
    help="A platform origin whose pages may use the agent (repeatable), e.g. https://ggzy.example.",
)
@click.option(
    "--port",
    default=DEFAULT_PORT,
    show_default=True,
    envvar="GGZY_AGENT_PORT",
    type=click.IntRange(0, 65535),
    help="Port on 127.0.0.1 (0: any free port, printed at start).",
)
@click.option("--confirm-timeout", default=120, show_default=True, type=click.IntRange(5, 3600), help="Seconds.")
@click.option("--list", "list_only", is_flag=True, help="Print the token's certificates and exit.")
def agent(
    *, module: str, token_label: str, origins: frozenset[str], port: int, confirm_timeout: int, list_only: bool
) -> None:
    """Serve a USB key or HSM (PKCS#11) to the platform's pages on 127.0.0.1, asking before each use.

    The PIN comes from GGZY_AGENT_PIN or is asked for (never shown or logged). Every signature,
    key agreement or decryption is put to you in this terminal; answer y to allow it.
    """
    if not origins and not list_only:
        raise click.UsageError("name the platform with --allow-origin (no page may use the agent otherwise)")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    pin = os.environ.pop(PIN_VARIABLE, None)
    if pin is None:
        pin = click.prompt("PIN", hide_input=True, err=True)
    try:
        token = Token(module, token_label, pin)
    except TokenRefused as refusal:
        raise click.ClickException(refusal.detail) from None
    finally:
        del pin
    if not token.keys:
        click.echo(f"令牌 {token_label} 上没有配对的私钥和证书 (no key with a certificate on the token)", err=True)
    for key in token.keys.values():
        click.echo(f"key {key.id}: {key.kind} {key.label} (issuer: {key.certificate.issuer.rfc4514_string()})")
    if list_only:
        token.close()
        return
    service = Agent(token, TerminalConfirmer(timeout=confirm_timeout).ask, origins, port)
    server = make_server(service, port)
    click.echo(f"ggzy agent listening on http://127.0.0.1:{service.port} for {', '.join(sorted(origins))}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        token.close()
