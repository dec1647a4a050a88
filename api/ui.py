"""The dashboard: static pages under /ui over the JSON API, with a strict Content-Security-Policy.

The page holds no data of its own: it signs in with an API token kept in the tab's session storage and
reads everything through /v1 with that token as its bearer, so it shows exactly what that owner may see.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from els.errors import NotFoundError

FOLDER = Path(__file__).with_name("ui")
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# Everything from this origin only; no inline script or style, no framing, no form posts elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}
# The files the dashboard is made of, read once: nothing outside this list is ever served.
ASSETS = {
    path.name: (path.read_bytes(), MEDIA_TYPES[path.suffix])
    for path in sorted(FOLDER.iterdir())
    if path.suffix in MEDIA_TYPES
}

router = APIRouter(include_in_schema=False)


@router.get("/ui")
def dashboard_root() -> RedirectResponse:
    """The dashboard lives at /ui/."""
    return RedirectResponse("/ui/", status_code=308)


@router.get("/ui/")
def dashboard() -> Response:
    """The dashboard's one page; its script draws every view."""
    return _asset("index.html")


@router.get("/ui/{name}")
def dashboard_asset(name: str) -> Response:
    """One of the dashboard's own files."""
    return _asset(name)


def _asset(name: str) -> Response:
    found = ASSETS.get(name)
    if found is None:
        raise NotFoundError(f"the dashboard has no file {name[:100]}")
    content, media_type = found
    return Response(content, media_type=media_type, headers=SECURITY_HEADERS)
