"""Where a webhook may connect: the URL's host is resolved once, every address checked, and the request
sent to the checked address itself, so a DNS answer that changes between check and connect cannot send it
elsewhere. Loopback, link-local, private, multicast, reserved and unspecified addresses are refused unless
an allowed network (`ELS_WEBHOOK_ALLOW_NETWORKS`) holds them. Redirects are never followed: http.client
does not follow them, and a 3xx answer counts as a failed attempt.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from els.errors import InvalidInputError, WebhookTargetRefusedError

MAX_URL_LENGTH = 2048
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class WebhookUrl:
    """A parsed webhook URL: scheme, host, port and the path with its query."""

    scheme: str
    host: str
    port: int
    target: str


@dataclass(frozen=True)
class WebhookAnswer:
    """What the receiver answered: its status and the start of its body."""

    status: int
    body: str


def allowed_networks(setting: str) -> tuple[Network, ...]:
    """The networks of `ELS_WEBHOOK_ALLOW_NETWORKS` (comma-separated CIDRs); InvalidInputError if bad."""
    networks = []
    for part in setting.split(","):
        if part.strip():
            try:
                networks.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError as error:
                raise InvalidInputError(
                    f"ELS_WEBHOOK_ALLOW_NETWORKS holds {part.strip()!r}: give networks like 10.0.0.0/8"
                ) from error
    return tuple(networks)


def parse_webhook_url(url: str) -> WebhookUrl:
    """The URL's parts; WebhookTargetRefusedError unless it is an absolute http(s) URL without credentials."""
    if len(url) > MAX_URL_LENGTH or any(ord(char) <= 32 or ord(char) == 127 for char in url):
        raise _refused(url, f"a webhook URL is at most {MAX_URL_LENGTH} printable characters, no spaces")
    try:
        parts: SplitResult = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise _refused(url, f"the webhook URL is malformed: {error}") from error
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise _refused(url, "a webhook URL is an absolute http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise _refused(url, "a webhook URL carries no credentials; the signature authenticates ELS")
    default_port = 443 if parts.scheme == "https" else 80
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return WebhookUrl(parts.scheme, parts.hostname, port or default_port, target)


def check_address(address: Address, allowed: tuple[Network, ...]) -> bool:
    """Whether a webhook may connect to `address`: public, or inside an allowed network."""
    if any(address in network for network in allowed if network.version == address.version):
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return check_address(address.ipv4_mapped, allowed)
    return not (
        address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def check_literal_host(url: WebhookUrl, allowed: tuple[Network, ...]) -> None:
    """Refuse, before anything is stored, a URL whose host is an address ELS would never connect to."""
    try:
        address = ipaddress.ip_address(url.host)
    except ValueError:
        return  # a name: resolved and checked at each delivery
    if not check_address(address, allowed):
        raise _refused(url.host, f"webhooks may not reach {address} (loopback, private or reserved)")


def resolve_checked(url: WebhookUrl, allowed: tuple[Network, ...]) -> Address:
    """The first address of the URL's host that a webhook may reach; WebhookTargetRefusedError if none."""
    try:
        infos = socket.getaddrinfo(url.host, url.port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise _refused(url.host, f"the webhook host {url.host} does not resolve: {error}") from error
    refused = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if check_address(address, allowed):
            return address
        refused.append(str(address))
    raise _refused(
        url.host, f"webhooks may not reach {url.host} at {', '.join(refused)} (loopback, private or reserved)"
    )


def post_to_address(
    url: WebhookUrl, address: Address, body: bytes, headers: dict[str, str], timeout: float
) -> WebhookAnswer:
    """POST `body` to the checked `address`, with the URL's host as Host and TLS name; OSError if it fails."""
    connection = _PinnedConnection(url, address, timeout)
    try:
        connection.request("POST", url.target, body=body, headers=headers)
        response = connection.getresponse()
        return WebhookAnswer(response.status, response.read(512).decode("utf-8", "replace"))
    except http.client.HTTPException as error:
        raise OSError(f"the receiver's answer is not HTTP: {error}") from error
    finally:
        connection.close()


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to one given address, whatever the host name resolves to now."""

    def __init__(self, url: WebhookUrl, address: Address, timeout: float) -> None:
        super().__init__(url.host, url.port, timeout=timeout)
        self._address = address
        self._tls = ssl.create_default_context() if url.scheme == "https" else None

    def connect(self) -> None:
        """Connect to the pinned address; wrap in TLS checked against the URL's host name for https."""
        raw = socket.create_connection((str(self._address), self.port), self.timeout)
        self.sock = raw if self._tls is None else self._tls.wrap_socket(raw, server_hostname=self.host)


def _refused(target: str, message: str) -> WebhookTargetRefusedError:
    return WebhookTargetRefusedError(message, details={"target": target[:200]})
