"""HTTP uploads/s through the API against a bare endpoint of the same app that only reads the body.

Run: `uv run python bench/intake.py [--uploads N] [--concurrency C] [--database-url URL]`. One API
process (uvicorn, the app of `els api` plus one route, `POST /bench/discard`, that reads the body and
answers 204) serves an httpx client with C requests in flight. Each request is one multipart upload
of a distinct 10 KB essay into one open batch (stored, enqueued; no worker runs, the queue is deleted
afterwards); the baseline posts the same bodies to the bare route. The two alternate in rounds, so
drift on a shared machine hits both alike. The last line is one JSON object; `ratio` is uploads/s over
bare requests/s (target >= 0.5).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

if not __package__:
    # Run as a script, bench/ comes first on sys.path and this file would shadow the packages.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import httpx
import redis
from fastapi import FastAPI, Request, Response

from api import app_from_environment
from cli.embedded_redis import free_port
from db.migrate import upgrade

TOKEN = "bench-token"
ROUND = 200
WORDS = (
    *("river", "library", "bicycle", "garden", "science", "music", "history", "winter"),
    *("market", "harbour", "school", "forest", "teacher", "island", "bridge", "window"),
)


def bench_app() -> FastAPI:
    """The API of `els api`, plus the bare route the uploads are compared with."""
    app = app_from_environment()

    @app.post("/bench/discard", status_code=204)
    async def discard(request: Request) -> Response:
        await request.body()
        return Response(status_code=204)

    return app


def essay(number: int, size: int = 10_000) -> bytes:
    """A distinct essay of about `size` bytes."""
    words = [WORDS[(number * 7 + i * 3) % len(WORDS)] for i in range(size // 7)]
    return (f"Essay {number}. " + " ".join(words) + ".").encode()[:size]


async def _round(
    client: httpx.AsyncClient, url: str, bodies: list[bytes], first: int, concurrency: int
) -> tuple[float, list[float]]:
    """Post one round of bodies as multipart uploads, `concurrency` at once: (seconds, latencies)."""
    numbers = iter(range(first, min(first + ROUND, len(bodies))))
    latencies: list[float] = []

    async def post_all() -> None:
        for number in numbers:
            files = {"files": (f"essay-{number}.txt", bodies[number], "text/plain")}
            before = time.perf_counter()
            answer = await client.post(url, files=files)
            latencies.append(time.perf_counter() - before)
            if answer.status_code not in (202, 204):
                raise SystemExit(f"{url} answered {answer.status_code}: {answer.text[:300]}")

    start = time.perf_counter()
    await asyncio.gather(*(post_all() for _ in range(concurrency)))
    return time.perf_counter() - start, latencies


async def measure(base: str, batch_id: str, bodies: list[bytes], concurrency: int) -> dict[str, float]:
    """Bare and upload rounds, alternating; the figures of both."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as client:
        await _round(client, "/bench/discard", bodies[:concurrency], 0, concurrency)  # warm-up
        bare_s = upload_s = 0.0
        bare_lat: list[float] = []
        upload_lat: list[float] = []
        for first in range(0, len(bodies), ROUND):
            seconds, latencies = await _round(client, "/bench/discard", bodies, first, concurrency)
            bare_s, bare_lat = bare_s + seconds, bare_lat + latencies
            url = f"/v1/batches/{batch_id}/essays"
            seconds, latencies = await _round(client, url, bodies, first, concurrency)
            upload_s, upload_lat = upload_s + seconds, upload_lat + latencies
    n = len(bodies)
    return {
        "bare_requests_per_s": round(n / bare_s, 1),
        "uploads_per_s": round(n / upload_s, 1),
        "bare_p50_ms": round(statistics.median(bare_lat) * 1000, 2),
        "upload_p50_ms": round(statistics.median(upload_lat) * 1000, 2),
        "upload_p99_ms": round(sorted(upload_lat)[int(0.99 * (n - 1))] * 1000, 2),
        "ratio": round((n / upload_s) / (n / bare_s), 3),
    }


def wait_until_up(base: str, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Poll /healthz until the API answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the API exited with {server.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("the API did not answer /healthz in time")


def main() -> None:
    """Start one API process, register a batch, and measure both paths."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--uploads", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    tag = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as folder:
        database_url = args.database_url or f"sqlite:///{folder}/bench.db"
        upgrade(database_url, blob_store=f"{folder}/blobs")
        port = free_port()
        env = {
            **os.environ,
            "ELS_REDIS_URL": args.redis_url,
            "ELS_DATABASE_URL": database_url,
            "ELS_BLOB_STORE": f"{folder}/blobs",
            "ELS_KEY_PREFIX": f"bench-{tag}",
            "ELS_QUEUE": f"bench-{tag}",
            "ELS_API_TOKENS": json.dumps({hashlib.sha256(TOKEN.encode()).hexdigest(): f"bench-{tag}"}),
            "ELS_MAX_EXPECTED_ESSAYS": str(args.uploads),
            "ELS_RATE_LIMIT_PER_TOKEN": "",
            "ELS_RATE_LIMIT_PER_ADDRESS": "",
            "ELS_LOG_LEVEL": "WARNING",
        }
        command = [sys.executable, "-m", "uvicorn", "bench.intake:bench_app", "--factory"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        root = Path(__file__).resolve().parent.parent
        server = subprocess.Popen(command, env=env, cwd=root)
        base = f"http://127.0.0.1:{port}"
        client = redis.Redis.from_url(args.redis_url)
        try:
            wait_until_up(base, server)
            created = httpx.post(
                f"{base}/v1/batches",
                json={"expected_count": args.uploads, "deadline_seconds": 3600},
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=30,
            )
            created.raise_for_status()
            batch_id = str(created.json()["batch_id"])
            bodies = [essay(number) for number in range(args.uploads)]
            figures = asyncio.run(measure(base, batch_id, bodies, args.concurrency))
        finally:
            server.terminate()
            server.wait(timeout=30)
            keys = [*client.scan_iter(match=f"bench-{tag}*", count=1000)]
            keys += [*client.scan_iter(match=f"*q:bench-{tag}*", count=1000)]
            if keys:
                client.delete(*keys)
            client.close()
    print(
        f"bare: {figures['bare_requests_per_s']}/s   uploads: {figures['uploads_per_s']}/s   "
        f"upload p50 {figures['upload_p50_ms']} ms, p99 {figures['upload_p99_ms']} ms"
    )
    summary: dict[str, float | str] = {
        **figures,
        "uploads": len(bodies),
        "concurrency": int(args.concurrency),
        "essay_bytes": len(bodies[0]),
        "database": database_url.split(":", 1)[0],
        "api": "1 uvicorn process",
    }
    print(json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    main()
