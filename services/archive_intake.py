"""A class's essays as one ZIP: each essay file in it becomes a submission, the rest are reported.

Members the archive reader skips (hidden files, links, unsafe paths, nested archives, members too large)
and members intake refuses (not an essay type) are answered by name with their reason; they take no
slot, as a refused single upload takes none. Everything else goes through `submit_essays` as one request,
so replays, the receipt of each upload and the exactly-once rules are those of any upload.
"""

from __future__ import annotations

from dataclasses import dataclass

from els.errors import (
    ArchiveRefusedError,
    EssayRejectedError,
    InvalidInputError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from els.settings import Settings
from essays.archive import ArchiveCaps
from essays.class_archive import SkippedMember, open_class_archive
from services.bounds import clean_filename
from services.intake import AcceptedSubmission, Upload, check_batch_owner, check_upload, submit_essays
from services.outages import outage_as_not_ready
from services.runtime import Runtime

PATH_SEPARATOR = " > "  # between the folders of a member's path in its filename, as a breadcrumb


@dataclass(frozen=True)
class RefusedMember:
    """A member intake would not take, with the code and message a single upload of it would get."""

    name: str
    code: str
    message: str


@dataclass(frozen=True)
class ArchiveSubmitted:
    """What became of every member of one class archive."""

    accepted: list[AcceptedSubmission]
    skipped: list[SkippedMember]
    refused: list[RefusedMember]


def archive_caps(settings: Settings) -> ArchiveCaps:
    """The guards a class archive passes before any member is inflated."""
    return ArchiveCaps(
        max_uncompressed_bytes=settings.archive_max_uncompressed_bytes,
        max_compression_ratio=settings.docx_max_compression_ratio,
        max_entries=settings.archive_max_members,
    )


def member_filename(name: str) -> str:
    """The filename a member is stored under: its path, folders joined by PATH_SEPARATOR, cleaned."""
    parts = [clean_filename(part) for part in name.replace("\\", "/").split("/") if part]
    return PATH_SEPARATOR.join(parts)


@outage_as_not_ready
def submit_archive(
    runtime: Runtime,
    owner: str,
    batch_id: str,
    data: bytes,
    *,
    correlation_id: str,
    idempotency_key: str | None = None,
) -> ArchiveSubmitted:
    """Open the archive under its caps, sort its members, and submit the essay files in archive order."""
    check_batch_owner(runtime, owner, batch_id)
    settings = runtime.settings
    try:
        archive = open_class_archive(data, archive_caps(settings), settings.max_upload_bytes)
    except EssayRejectedError as error:
        raise ArchiveRefusedError(error.message, details=error.details) from error
    uploads: list[Upload] = []
    refused: list[RefusedMember] = []
    for member in archive.members:
        upload = Upload(filename=member_filename(member.name), declared_type="", data=member.data)
        try:
            check_upload(settings, upload)
        except (UnsupportedMediaTypeError, PayloadTooLargeError) as error:
            refused.append(RefusedMember(member.name, error.code, error.message))
            continue
        uploads.append(upload)
    if not uploads:
        raise InvalidInputError(
            "the archive holds no essay file",
            details={"skipped": len(archive.skipped), "refused": len(refused)},
        )
    accepted = submit_essays(
        runtime, owner, batch_id, uploads, correlation_id=correlation_id, idempotency_key=idempotency_key
    )
    return ArchiveSubmitted(accepted, archive.skipped, refused)
