"""A real S3-protocol server on 127.0.0.1 for the blob store tests: moto's standalone server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
from moto.server import ThreadedMotoServer

from cli.embedded_redis import free_port

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "els-test",
    "AWS_SECRET_ACCESS_KEY": "els-test",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextmanager
def s3_server() -> Iterator[str]:
    """moto's S3 server on a free loopback port, with test credentials in the environment; its URL."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    saved = {name: os.environ.get(name) for name in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def create_bucket(endpoint_url: str, bucket: str) -> None:
    """Make `bucket` on the server at `endpoint_url`."""
    boto3.client("s3", endpoint_url=endpoint_url).create_bucket(Bucket=bucket)
