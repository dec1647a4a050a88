"""Bearer-token authentication: a token's sha256 digest names the owner it acts as."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.state import runtime_of
from els.errors import UnauthorizedError
from services import limits

bearer = HTTPBearer(auto_error=False, description="A token whose sha256 hex digest is in ELS_API_TOKENS.")


def owner_of_token(token: str, digests: Mapping[str, str]) -> str | None:
    """The owner whose configured digest matches the token's, compared in constant time against each."""
    presented = hashlib.sha256(token.encode()).hexdigest()
    owner: str | None = None
    for digest, candidate in digests.items():
        # Compare against every digest, without stopping early, so timing says nothing about a match.
        if hmac.compare_digest(presented, digest.lower()):
            owner = candidate
    return owner


def current_owner(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> str:
    """The owner the request acts as; UnauthorizedError without a known bearer token.

    Rate limits first: the client address's (429 too after too many failed authentications from it),
    then, once the owner is known, its token's.
    """
    runtime = runtime_of(request)
    address = request.client.host if request.client is not None else "unknown"
    limits.admit_address(runtime, address)
    if credentials is None or credentials.scheme.lower() != "bearer":
        limits.record_auth_failure(runtime, address)
        raise UnauthorizedError("a bearer token is required")
    owner = owner_of_token(credentials.credentials, runtime.settings.api_tokens)
    if owner is None:
        limits.record_auth_failure(runtime, address)
        raise UnauthorizedError("the bearer token is not valid")
    limits.admit_owner(runtime, owner)
    return owner


Owner = Annotated[str, Depends(current_owner)]
