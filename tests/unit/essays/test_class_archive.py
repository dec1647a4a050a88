"""A class archive: essay files kept in order, clutter, links, unsafe paths and nested archives skipped."""

from __future__ import annotations

import io
import stat
import zipfile

import pytest

from els.errors import EssayRejectedError, RejectionCode
from essays.archive import ArchiveCaps
from essays.class_archive import SkipReason, open_class_archive
from tests.support.documents import make_docx

CAPS = ArchiveCaps(max_uncompressed_bytes=10 * 1024 * 1024, max_compression_ratio=100, max_entries=50)


def zip_of(members: dict[str, bytes], *, links: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("7B/", b"")
        for name, data in members.items():
            archive.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, b"/etc/passwd")
    return buffer.getvalue()


def test_essay_files_are_kept_in_order_and_everything_else_is_named_with_its_reason() -> None:
    inner = zip_of({"x.txt": b"inside"})
    data = zip_of(
        {
            "7B/alice.txt": b"Alice's essay.",
            "7B/bob.docx": make_docx("Bob's essay."),
            "__MACOSX/7B/._alice.txt": b"\x00\x05\x16\x07",
            "7B/.DS_Store": b"\x00\x00\x00\x01Bud1",
            "7B/.hidden.txt": b"secret",
            "../escape.txt": b"up and out",
            "/etc/absolute.txt": b"rooted",
            "7B/more.zip": inner,
            "7B/big.txt": b"x" * 200_000,
        },
        links=("7B/link.txt",),
    )
    archive = open_class_archive(data, CAPS, max_member_bytes=100_000)
    assert [member.name for member in archive.members] == ["7B/alice.txt", "7B/bob.docx"]
    assert archive.members[0].data == b"Alice's essay."
    assert {item.name: item.reason for item in archive.skipped} == {
        "__MACOSX/7B/._alice.txt": SkipReason.HIDDEN,
        "7B/.DS_Store": SkipReason.HIDDEN,
        "7B/.hidden.txt": SkipReason.HIDDEN,
        "../escape.txt": SkipReason.UNSAFE_PATH,
        "/etc/absolute.txt": SkipReason.UNSAFE_PATH,
        "7B/more.zip": SkipReason.NESTED_ARCHIVE,
        "7B/big.txt": SkipReason.TOO_LARGE,
        "7B/link.txt": SkipReason.SYMLINK,
    }


def test_an_archive_over_its_member_count_is_refused_unread() -> None:
    data = zip_of({f"7B/{index}.txt": b"essay" for index in range(60)})
    with pytest.raises(EssayRejectedError) as caught:
        open_class_archive(data, CAPS, max_member_bytes=1000)
    assert caught.value.code == RejectionCode.TEXT_EXTRACTION_FAILED
    assert caught.value.details["reason"] == "entry_count"


def test_a_zip_bomb_is_refused_on_its_ratio() -> None:
    data = zip_of({"7B/bomb.txt": b"a" * (8 * 1024 * 1024)})
    with pytest.raises(EssayRejectedError) as caught:
        open_class_archive(data, CAPS, max_member_bytes=16 * 1024 * 1024)
    assert caught.value.details["reason"] == "compression_ratio"


def test_a_damaged_archive_is_refused() -> None:
    with pytest.raises(EssayRejectedError):
        open_class_archive(zip_of({"a.txt": b"text"})[:40], CAPS, max_member_bytes=1000)
