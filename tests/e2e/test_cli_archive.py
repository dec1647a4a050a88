"""`els batch submit` with a folder and a class archive: every essay file submitted, the rest named."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests.support.cli import cli_environment, els

pytestmark = pytest.mark.slow

ESSAY = "Rivers shape the land they cross, carving valleys and building plains for farmers to grow crops."


def test_submit_takes_a_folder_and_a_class_archive(redis_url: str, key_prefix: str, tmp_path: Path) -> None:
    env = cli_environment(redis_url, key_prefix, tmp_path)
    assert els("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    created = els("batch", "create", "--expected", "4", "--owner", "alice", env=env, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    batch_id = json.loads(created.stdout)["batch_id"]
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "one.txt").write_text(f"One. {ESSAY}")
    (folder / "two.txt").write_text(f"Two. {ESSAY}")
    (folder / ".hidden.txt").write_text("not an essay")
    archive = tmp_path / "more.zip"
    with zipfile.ZipFile(archive, "w") as members:
        members.writestr("7B/three.txt", f"Three. {ESSAY}")
        members.writestr("7B/photo.png", b"\x89PNG\r\n\x1a\n" + bytes(32))
        members.writestr("__MACOSX/7B/._three.txt", b"\x00\x05")
    submitted = els("batch", "submit", batch_id, str(folder), str(archive), env=env, cwd=tmp_path)
    assert submitted.returncode == 0, submitted.stderr
    lines = submitted.stdout.splitlines()
    assert [line.split("\t")[1] for line in lines] == [
        str(folder / "one.txt"),
        str(folder / "two.txt"),
        f"{archive} > 7B > three.txt",
    ]
    assert f"refused {archive} > 7B/photo.png: [UNSUPPORTED_TYPE]" in submitted.stderr
    assert f"skipped {archive} > __MACOSX/7B/._three.txt: hidden" in submitted.stderr
    missing = els("batch", "submit", batch_id, str(tmp_path / "nowhere"), env=env, cwd=tmp_path)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr
