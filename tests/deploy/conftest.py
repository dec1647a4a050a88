"""The compose stack, built and started once for the deploy tests, torn down after them.

Run by `deploy/smoke.sh` (or `ELS_DEPLOY_SMOKE=1 uv run pytest -m deploy tests/deploy`). Without
ELS_DEPLOY_SMOKE the tests skip, saying so; with it, a missing engine is a failure, never a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.deploy.stack import LOCAL_IMAGES, ROOT, Stack, engine_problem, image_exists, run, write_env_file


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.environ.get("ELS_DEPLOY_SMOKE") == "1":
        return
    skip = pytest.mark.skip(reason="the compose smoke test runs from deploy/smoke.sh (ELS_DEPLOY_SMOKE=1)")
    for item in items:
        if "deploy" in item.keywords:
            item.add_marker(skip)


def uv_image() -> str | None:
    """UV_IMAGE from the environment, else the newest uv image deploy/local-images.sh packed."""
    if os.environ.get("UV_IMAGE"):
        return os.environ["UV_IMAGE"]
    tags = run(["docker", "images", "els-local/uv", "--format", "{{.Tag}}"]).stdout.split()
    return f"els-local/uv:{tags[0]}" if tags else None


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    problem = engine_problem()
    if problem is not None:
        pytest.fail(f"ELS_DEPLOY_SMOKE=1 but {problem}")
    directory = tmp_path_factory.mktemp("compose")
    extra = {"UV_IMAGE": image} if (image := uv_image()) else {}
    built = write_env_file(directory, f"els-smoke-{uuid.uuid4().hex[:6]}", extra)
    build_args = [
        arg
        for name, image in {**LOCAL_IMAGES, **extra}.items()
        if image_exists(image)
        for arg in ("--build-arg", f"{name}={image}")
    ]
    # Host networking for the build: with dockerd --iptables=false a bridge has no way out to PyPI.
    run(["docker", "build", "--network", "host", *build_args, "-t", "els:latest", str(ROOT)], timeout=900)
    try:
        if built.compose == ["docker", "compose"]:
            built("up", "-d", "--wait", timeout=900)
        else:
            built("up", "-d", timeout=900)
            built.wait_healthy()
        yield built
    except BaseException:
        print(built.logs())
        raise
    finally:
        built("down", "-v", "--remove-orphans", "--timeout", "20", check=False, timeout=300)
