"""Where a webhook may point: not at the gateway's own network (SSRF). Checked when a webhook
is saved and again at every delivery, against the addresses the name resolves to then (DNS
rebinding), and the request goes to the address that was checked."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL = 2000


class UnsafeAddress(Exception):
    """The URL is malformed, does not resolve, or resolves to a refused address."""


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    address: str  # the checked IP the request connects to


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a webhook's (its form only; addresses are checked apart)."""
    if len(url) > MAX_URL:
        return f"url is at most {MAX_URL} characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError as exc:
        return f"url is not a URL: {exc}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "url must be an absolute http:// or https:// URL"
    if parts.username or parts.password:
        return "url must not contain credentials"
    return None


def _refused(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return _refused(ip.ipv4_mapped)
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def resolve(url: str, allow_private: bool) -> Target:
    """The address to connect to for `url`: every address the name resolves to must be
    public unless `allow_private`. Blocking (DNS)."""
    problem = url_problem(url)
    if problem:
        raise UnsafeAddress(problem)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as exc:  # ValueError: NUL, a label too long for IDNA
        raise UnsafeAddress(f"{host} does not resolve: {exc}") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise UnsafeAddress(f"{host} does not resolve")
    if not allow_private:
        for address in addresses:
            if _refused(ipaddress.ip_address(address.split("%")[0])):
                raise UnsafeAddress(
                    f"{host} resolves to {address}, a loopback, private or link-local "
                    "address: refused (GATEWAY_WEBHOOK_ALLOW_PRIVATE_ADDRESSES allows it)"
                )
    return Target(host=host, port=port, address=addresses[0])
