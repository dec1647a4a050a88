"""Request rate limits per client address, per bearer token, and on failed authentications per address.

The entry point asks before it authenticates (`admit_address`), reports a failed authentication
(`record_auth_failure`) and, once it knows the owner, asks for the token (`admit_owner`). An address that
has failed authentication `ELS_AUTH_FAILURES_PER_ADDRESS` times is refused before its token is looked at.
"""

from __future__ import annotations

import math

from els.errors import RateLimitedError
from services.outages import outage_as_not_ready
from services.runtime import Runtime

PER_TOKEN = "bearer"  # noqa: S105 - a rule name, not a secret
PER_ADDRESS = "address"
AUTH_FAILURES = "auth_failures"


def _refused(what: str, wait: float) -> RateLimitedError:
    retry_after = max(1, math.ceil(wait))
    return RateLimitedError(
        f"too many {what}; retry in {retry_after} s", details={"limit": what, "retry_after": retry_after}
    )


@outage_as_not_ready
def admit_address(runtime: Runtime, address: str) -> None:
    """Count a request from `address`; RateLimitedError over its rate or after too many failed logins."""
    limiter = runtime.limiter
    if limiter is None:
        return
    wait = limiter.blocked(AUTH_FAILURES, address)
    if wait is not None:
        raise _refused("failed authentications from this address", wait)
    wait = limiter.hit(PER_ADDRESS, address)
    if wait is not None:
        raise _refused("requests from this address", wait)


@outage_as_not_ready
def record_auth_failure(runtime: Runtime, address: str) -> None:
    """Count a failed authentication from `address`."""
    if runtime.limiter is not None:
        runtime.limiter.hit(AUTH_FAILURES, address)


@outage_as_not_ready
def admit_owner(runtime: Runtime, owner: str) -> None:
    """Count a request made with the owner's token; RateLimitedError over its rate."""
    if runtime.limiter is None:
        return
    wait = runtime.limiter.hit(PER_TOKEN, owner)
    if wait is not None:
        raise _refused("requests with this token", wait)
