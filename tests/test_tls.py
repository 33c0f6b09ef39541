"""HTTPS served by the server itself, with the certificate `lianshen cert` makes (server/tls.py)."""

from __future__ import annotations

import shutil
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import socketio
from aiohttp.test_utils import TestServer

from server.app import build_app
from server.cli import main
from server.db.engine import create_engine, session_factory
from server.settings import SettingsError, load_settings
from server.tls import CA_CERTIFICATE, CERTIFICATE, KEY, TLS_DIR, issue, server_ssl_context
from tests.world import PASSWORD, build_world


@dataclass
class HttpsServer:
    url: str
    ca: Path


@pytest.fixture
async def https(tmp_path: Path, sqlite_template: Path,
                capsys: pytest.CaptureFixture[str]) -> AsyncIterator[HttpsServer]:
    data = tmp_path / "data"
    assert main(["cert", "--address", "127.0.0.1", "--data-dir", str(data)]) == 0
    printed = capsys.readouterr().out
    tls = data / TLS_DIR
    assert f'tls_certificate = "{(tls / CERTIFICATE).resolve()}"' in printed
    assert "certutil -addstore -f Root" in printed  # how to trust it is told
    assert (tls / KEY).stat().st_mode & 0o077 == 0

    database = tmp_path / "lianshen.db"
    shutil.copy(sqlite_template, database)
    settings = load_settings(data_dir=data, database={"url": f"sqlite+aiosqlite:///{database}"},
                             server={"tls_certificate": str(tls / CERTIFICATE),
                                     "tls_key": str(tls / KEY)})
    engine = create_engine(settings.database_url)
    await build_world(session_factory(engine))
    server = TestServer(build_app(settings), host="127.0.0.1")
    await server.start_server(ssl=server_ssl_context(settings.server))
    try:
        yield HttpsServer(f"https://127.0.0.1:{server.port}", tls / CA_CERTIFICATE)
    finally:
        await server.close()
        await engine.dispose()


async def test_the_server_speaks_https_with_a_certificate_the_local_ca_vouches_for(
        https: HttpsServer) -> None:
    trusting = ssl.create_default_context(cafile=str(https.ca))
    async with aiohttp.ClientSession() as http:
        response = await http.get(f"{https.url}/healthz", ssl=trusting)
        assert response.status == 200
        assert await response.json() == {"status": "ok"}

        login = await http.post(f"{https.url}/api/v1/auth/login", ssl=trusting,
                                json={"username": "chair", "password": PASSWORD})
        assert login.status == 200
        session = login.cookies["lianshen_session"]
        assert session["secure"], login.headers.getall("Set-Cookie")

    async with aiohttp.ClientSession() as http:  # a browser that has not trusted the CA refuses
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await http.get(f"{https.url}/healthz", ssl=ssl.create_default_context())


def test_a_certificate_without_its_key_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="give both or neither"):
        load_settings(server={"tls_certificate": str(tmp_path / "server.pem")})
    settings = load_settings(server={"tls_certificate": str(tmp_path / "missing.pem"),
                                     "tls_key": str(tmp_path / "missing.key")})
    with pytest.raises(SettingsError, match=r"missing\.pem"):
        server_ssl_context(settings.server)


async def test_the_meeting_socket_accepts_the_browser_origin_over_https(https: HttpsServer) -> None:
    """A browser's WebSocket carries ``Origin: https://…``; socket.io's same-origin check must see
    the TLS the server itself terminates (it assumes plain HTTP unless a proxy says otherwise)."""
    trusting = ssl.create_default_context(cafile=str(https.ca))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trusting)) as http:
        login = await http.post(f"{https.url}/api/v1/auth/login",
                                json={"username": "chair", "password": PASSWORD})
        cookie = login.cookies["lianshen_session"].value
        for origin, accepted in ((https.url, True), ("https://elsewhere.example", False)):
            client = socketio.AsyncClient(http_session=http, reconnection=False)
            try:
                await client.connect(https.url, transports=["websocket"], wait_timeout=10,
                                     headers={"Origin": origin, "Cookie": f"lianshen_session={cookie}"})
                assert accepted, origin
            except socketio.exceptions.ConnectionError:
                assert not accepted, origin
            finally:
                await client.disconnect()


def test_a_new_certificate_reuses_the_authority_browsers_already_trust(tmp_path: Path) -> None:
    first = issue(tmp_path, ["192.168.1.20"], ["localhost"])
    authority = first.ca_certificate.read_bytes()
    second = issue(tmp_path, ["192.168.1.21"], ["localhost"])  # the DHCP lease changed
    assert first.ca_created and not second.ca_created
    assert second.ca_certificate.read_bytes() == authority
    context = ssl.create_default_context(cafile=str(second.ca_certificate))
    context.load_cert_chain(second.certificate, second.key)  # the key matches the certificate
    with pytest.raises(ValueError):
        issue(tmp_path, ["not-an-address"], [])
