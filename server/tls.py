"""HTTPS: the server's own TLS, and a local certificate authority for an office LAN.

Browsers give a page the camera and microphone only in a secure context: ``http://localhost``
or ``https://`` with a certificate they trust. A chief representative at another desk opens
``https://<the server's LAN address>:8080/``, so the server must present a certificate for that
address. An office without its own PKI gets one from :func:`issue`: a small CA (created once,
kept in ``<data dir>/tls/``, trusted once per browser or machine) signs a server certificate
for the machine's addresses, and is reissued whenever the address changes without trusting
anything again.

The CA is name-constrained to ``localhost``, ``.local`` names and the machine's host name:
if its key leaked it could not vouch for any public site's name. Addresses are left free, as
offices on government extranets use public-looking ranges; a certificate for a bare public IP
address is what such a leak could still forge.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import ifaddr
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from server.settings import ServerSettings, Settings, SettingsError

TLS_DIR = "tls"
CA_CERTIFICATE = "lianshen-ca.pem"
CA_KEY = "lianshen-ca.key"
CERTIFICATE = "server.pem"
KEY = "server.key"

CA_DAYS = 3650
# Browsers refuse server certificates valid longer than 398 days (Apple's rule, followed widely).
CERTIFICATE_DAYS = 397

# Interfaces whose addresses no colleague's browser reaches the server at (containers, VMs).
VIRTUAL_INTERFACE_PREFIXES = ("lo", "docker", "br-", "veth", "virbr", "vmnet", "vboxnet", "cni", "flannel")


def server_ssl_context(server: ServerSettings) -> ssl.SSLContext | None:
    """The TLS context the server listens with, or None for plain HTTP (no certificate set).

    A missing or unreadable file stops the start with a SettingsError naming it.
    """
    if not server.tls_certificate:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(server.tls_certificate, server.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise SettingsError(
            f"server.tls_certificate / server.tls_key: cannot load {server.tls_certificate} "
            f"with {server.tls_key}: {exc}") from None
    return context


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses on private networks, as colleagues' browsers would use them."""
    found: list[str] = []
    for adapter in ifaddr.get_adapters():
        if adapter.name.startswith(VIRTUAL_INTERFACE_PREFIXES):
            continue
        for ip in adapter.ips:
            if isinstance(ip.ip, str):
                address = ipaddress.ip_address(ip.ip)
                if address.is_private and not address.is_loopback and not address.is_link_local:
                    found.append(ip.ip)
    return found


def site_urls(settings: Settings) -> list[str]:
    """Where people open the server: one URL per address it can be reached at."""
    server = settings.server
    scheme = "https" if server.tls_certificate else "http"
    hosts = [server.host]
    if server.host in ("0.0.0.0", "::", ""):
        hosts = ["localhost", *lan_addresses()]
    return [f"{scheme}://{f'[{h}]' if ':' in h else h}:{server.port}/" for h in hosts]


@dataclass(frozen=True)
class Issued:
    """What :func:`issue` wrote, and whether the CA is new (then browsers must trust it first)."""

    ca_certificate: Path
    certificate: Path
    key: Path
    addresses: tuple[str, ...]
    names: tuple[str, ...]
    ca_created: bool


def default_names() -> list[str]:
    """The host names a colleague may type: localhost, this machine's name and its mDNS name."""
    host = socket.gethostname().split(".")[0].lower()
    names = ["localhost"]
    if host and host != "localhost":
        names += [host, f"{host}.local"]
    return names


def issue(directory: Path, addresses: Sequence[str], names: Sequence[str]) -> Issued:
    """Write a server certificate for ``addresses`` and ``names`` signed by the local CA in
    ``directory`` (created on first use, reused after so browsers trust it only once)."""
    for address in addresses:
        ipaddress.ip_address(address)
    if not addresses and not names:
        raise ValueError("a certificate needs at least one address or name")
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_path, ca_key_path = directory / CA_CERTIFICATE, directory / CA_KEY
    ca_created = not (ca_path.is_file() and ca_key_path.is_file())
    if ca_created:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = _ca_certificate(ca_key, now)
        _write_key(ca_key_path, ca_key)
        ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    else:
        ca = x509.load_pem_x509_certificate(ca_path.read_bytes())
        loaded = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{ca_key_path}: not the EC key this command writes")
        ca_key = loaded
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = _server_certificate(key, ca, ca_key, addresses, names, now)
    cert_path, key_path = directory / CERTIFICATE, directory / KEY
    _write_key(key_path, key)
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM)
                          + ca.public_bytes(serialization.Encoding.PEM))
    return Issued(ca_path, cert_path, key_path, tuple(addresses), tuple(names), ca_created)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    path.chmod(0o600)


def _ca_certificate(key: ec.EllipticCurvePrivateKey, now: datetime.datetime) -> x509.Certificate:
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Lianshen 联审"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"Lianshen local CA ({socket.gethostname()})"),
    ])
    permitted: list[x509.GeneralName] = [
        x509.DNSName(n) for n in dict.fromkeys([*default_names(), "local"])]
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=None),
                       critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def _server_certificate(key: ec.EllipticCurvePrivateKey, ca: x509.Certificate,
                        ca_key: ec.EllipticCurvePrivateKey, addresses: Sequence[str],
                        names: Sequence[str], now: datetime.datetime) -> x509.Certificate:
    alternative: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    alternative += [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    common = (list(names) + list(addresses))[0]
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)]))
        .issuer_name(ca.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CERTIFICATE_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def trust_instructions(ca: Path) -> str:
    """How to make each kind of browser trust the local CA (printed by ``lianshen cert``)."""
    return "\n".join([
        f"信任本地证书颁发机构 / Trust the local certificate authority: {ca}",
        "  把此文件复制到每台要进入会议室的电脑上，然后 / copy this file to each computer that joins, then:",
        f"  Windows:  certutil -addstore -f Root {ca.name}   (管理员命令行 / administrator prompt;"
        " Chrome 与 Edge 使用系统证书 / Chrome and Edge use the system store)",
        f"  macOS:    sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {ca.name}",
        f"  Linux:    sudo cp {ca.name} /usr/local/share/ca-certificates/lianshen-ca.crt"
        " && sudo update-ca-certificates",
        f"            Chrome/Chromium: certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n lianshen -i {ca.name}",
        "  Firefox:  设置 → 隐私与安全 → 证书 → 查看证书 → 证书颁发机构 → 导入（勾选“信任由此证书颁发机构来标识网站”）"
        " / Settings → Privacy & Security → Certificates → View → Authorities → Import (trust for websites)",
        "  此证书颁发机构只能为本机名称、.local 名称与 IP 地址签发证书 / this CA can only vouch for"
        " this machine's names, .local names and IP addresses.",
    ])
