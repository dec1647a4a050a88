"""Webhook targets: only absolute http(s) URLs without credentials, and only public addresses unless a
network is allowed; names are resolved once and every answer checked."""

from __future__ import annotations

import ipaddress

import pytest

from els.errors import InvalidInputError, WebhookTargetRefusedError
from services.webhook_targets import (
    allowed_networks,
    check_address,
    check_literal_host,
    parse_webhook_url,
    resolve_checked,
)
from services.webhooks import check_secret, new_secret

REFUSED = [
    "127.0.0.1",
    "::1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "fe80::1",
    "fc00::1",
    "224.0.0.1",
    "0.0.0.0",
    "240.0.0.1",
    "100.64.0.1",  # carrier-grade NAT
    "::ffff:127.0.0.1",  # loopback dressed as IPv6
]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused_by_default(address: str) -> None:
    assert not check_address(ipaddress.ip_address(address), ())


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert check_address(ipaddress.ip_address(address), ())


def test_an_allowed_network_lets_its_addresses_through_and_no_others() -> None:
    allowed = allowed_networks("127.0.0.1/32, 10.0.0.0/8")
    assert check_address(ipaddress.ip_address("127.0.0.1"), allowed)
    assert check_address(ipaddress.ip_address("10.9.9.9"), allowed)
    assert not check_address(ipaddress.ip_address("127.0.0.2"), allowed)
    assert not check_address(ipaddress.ip_address("192.168.0.1"), allowed)


def test_a_bad_allowed_network_names_the_setting() -> None:
    with pytest.raises(InvalidInputError, match="ELS_WEBHOOK_ALLOW_NETWORKS"):
        allowed_networks("localhost")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "example.com/hook",
        "http://user:pass@example.com/hook",
        "http://example.com/a b",
        "http://example.com:99999/",
        "http://" + "a" * 2050 + ".com/",
    ],
)
def test_malformed_or_non_http_urls_are_refused(url: str) -> None:
    with pytest.raises(WebhookTargetRefusedError):
        parse_webhook_url(url)


def test_a_url_keeps_its_path_query_and_default_port() -> None:
    parsed = parse_webhook_url("https://hooks.example.com/els?tenant=7")
    assert (parsed.scheme, parsed.host, parsed.port, parsed.target) == (
        "https",
        "hooks.example.com",
        443,
        "/els?tenant=7",
    )


def test_a_literal_private_address_is_refused_before_anything_is_stored() -> None:
    with pytest.raises(WebhookTargetRefusedError):
        check_literal_host(parse_webhook_url("http://169.254.169.254/latest/meta-data"), ())
    check_literal_host(parse_webhook_url("http://127.0.0.1:8080/"), allowed_networks("127.0.0.1/32"))


def test_a_name_that_resolves_to_loopback_is_refused_unless_allowed() -> None:
    url = parse_webhook_url("http://localhost:8080/hook")
    with pytest.raises(WebhookTargetRefusedError, match="localhost"):
        resolve_checked(url, ())
    assert resolve_checked(url, allowed_networks("127.0.0.0/8,::1/128")).is_loopback


def test_secrets_are_standard_webhooks_secrets() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_") and check_secret(secret) == secret
    for bad in ["whsec_", "whsec_not base64!", "secret", "whsec_" + "QUJD"]:
        with pytest.raises(InvalidInputError):
            check_secret(bad)
