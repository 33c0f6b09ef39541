"""`lianshen cert`: a certificate for serving HTTPS on the office LAN (server/tls.py).

A browser on another desk opens the camera only over HTTPS, so the person starting the server
on a laptop needs a certificate for its LAN address without running a PKI: this command makes
one, signed by a local CA it creates once, and prints the settings that serve it and how each
browser comes to trust the CA.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from server.cli_settings import settings_from
from server.settings import Settings
from server.tls import TLS_DIR, Issued, default_names, issue, lan_addresses, trust_instructions


def lan_certificate(settings: Settings, addresses: list[str] | None = None,
                    names: list[str] | None = None) -> Issued:
    """Issue the certificate into <data dir>/tls for ``addresses`` (default: the LAN addresses
    and 127.0.0.1) and ``names`` (default: localhost and this machine's names)."""
    chosen = addresses if addresses else [*lan_addresses(), "127.0.0.1"]
    return issue(settings.data_dir / TLS_DIR, chosen, names if names else default_names())


def with_tls(settings: Settings, issued: Issued, host: str) -> Settings:
    """``settings`` serving ``issued`` on ``host``."""
    server = settings.server.model_copy(update={
        "host": host, "tls_certificate": str(issued.certificate.resolve()),
        "tls_key": str(issued.key.resolve())})
    return settings.model_copy(update={"server": server})


def describe(issued: Issued) -> str:
    """What was made, the settings that serve it, and how to trust the CA."""
    lines = [
        f"证书 / certificate: {issued.certificate}",
        f"  地址 / addresses: {', '.join(issued.addresses) or '-'}; 名称 / names: {', '.join(issued.names)}",
        "服务 HTTPS 的设置 / settings to serve it (LIANSHEN_CONFIG file):",
        "  [server]",
        '  host = "0.0.0.0"',
        f'  tls_certificate = "{issued.certificate.resolve()}"',
        f'  tls_key = "{issued.key.resolve()}"',
    ]
    if issued.ca_created:
        lines.append("新建了本地证书颁发机构 / a new local certificate authority was created.")
    lines.append(trust_instructions(issued.ca_certificate.resolve()))
    return "\n".join(lines)


def cmd_cert(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if not args.lan and not args.address:
        print("give --lan (this machine's LAN addresses) or --address IP", file=sys.stderr)
        return 2
    try:
        issued = lan_certificate(settings, args.address, args.name)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not issued.addresses or issued.addresses == ("127.0.0.1",):
        print("注意：未找到内网地址 / note: no LAN address found; the certificate covers this machine only",
              file=sys.stderr)
    print(describe(issued))
    return 0


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "cert", help="make a certificate for HTTPS on the office LAN",
        description="Create (once) a local certificate authority in <data dir>/tls and sign a "
                    "server certificate for this machine's LAN addresses; print the settings "
                    "that serve it and how to trust the authority in each browser.")
    p.add_argument("--lan", action="store_true",
                   help="cover this machine's LAN addresses and 127.0.0.1")
    p.add_argument("--address", action="append", metavar="IP",
                   help="an address to cover instead (repeatable)")
    p.add_argument("--name", action="append", metavar="DNS",
                   help="a host name to cover (repeatable; default: localhost and this machine's name)")
    p.add_argument("--data-dir", help="data directory (the certificate goes to <data dir>/tls)")
    p.set_defaults(func=cmd_cert)
