"""PDF text extraction in a child process that is killed when it runs past `ELS_PDF_MAX_SECONDS`.

pypdf's work on one page cannot be interrupted from inside (a page of text operators can hold the CPU
for minutes), so each PDF is read by a fresh `python -m services.pdf_sandbox`. The child imports what it
needs, says it is ready, and only then does the clock start: the parent sends the file, waits at most
`max_seconds` for the answer and kills the child (SIGKILL) if it has not come. The child also runs under
an address-space limit, so a PDF that inflates is refused instead of taking the worker's memory.

The answer is one JSON object on the child's stdout: `{"text": ...}` or `{"rejected": code, "message":
..., "details": {...}}`; anything else (a crash, a kill) is TEXT_EXTRACTION_FAILED.
"""

from __future__ import annotations

import json
import os
import resource
import select
import subprocess
import sys
from dataclasses import asdict

from els.errors import EssayRejectedError, RejectionCode
from essays.pdf_extraction import PdfCaps, extract_pdf_text

READY = b"R"
# Seconds the child may take to start and import pypdf, before the extraction clock starts.
STARTUP_SECONDS = 30.0
# Address space of the child: far above what a PDF within the content caps needs.
MEMORY_LIMIT_BYTES = 1024 * 1024 * 1024


def _failed(reason: str, message: str, **details: str | int | None) -> EssayRejectedError:
    return EssayRejectedError(
        RejectionCode.TEXT_EXTRACTION_FAILED, message, details={"reason": reason, **details}
    )


def sandboxed_pdf_text(data: bytes, caps: PdfCaps) -> str:
    """The PDF's text as `extract_pdf_text` gives it, read in a child killed after `caps.max_seconds`."""
    child = subprocess.Popen(  # noqa: S603 - our own module, no shell, no user input in the arguments
        [sys.executable, "-m", "services.pdf_sandbox", json.dumps(asdict(caps))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    try:
        assert child.stdout is not None
        ready, _, _ = select.select([child.stdout], [], [], STARTUP_SECONDS)
        if not ready or child.stdout.read(1) != READY:
            raise _failed("sandbox", "the PDF reader did not start")
        try:
            output, _ = child.communicate(input=data, timeout=caps.max_seconds)
        except subprocess.TimeoutExpired as error:
            raise _failed(
                "time_cap",
                f"reading the PDF took longer than {caps.max_seconds} s, so it was stopped",
                seconds=int(caps.max_seconds),
            ) from error
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    return _answer(output, child.returncode)


def _answer(output: bytes, returncode: int) -> str:
    try:
        answer = json.loads(output)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise _failed("crashed", "the PDF reader stopped without an answer", exit_code=returncode)
    text = answer.get("text")
    if isinstance(text, str):
        return text
    code, message, details = answer.get("rejected"), answer.get("message"), answer.get("details")
    if (
        isinstance(code, str)
        and code in RejectionCode.__members__
        and isinstance(message, str)
        and isinstance(details, dict)
    ):
        kept = {
            str(key): value for key, value in details.items() if isinstance(value, str | int) or value is None
        }
        raise EssayRejectedError(RejectionCode(code), message, details=kept)
    raise _failed("crashed", "the PDF reader answered in a shape ELS does not understand")


def _child(caps_json: str) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    caps = PdfCaps(**json.loads(caps_json))
    sys.stdout.buffer.write(READY)
    sys.stdout.buffer.flush()
    data = sys.stdin.buffer.read()
    try:
        answer: dict[str, object] = {"text": extract_pdf_text(data, caps)}
    except EssayRejectedError as rejection:
        answer = {"rejected": rejection.code, "message": rejection.message, "details": rejection.details}
    except MemoryError:
        answer = {
            "rejected": RejectionCode.TEXT_EXTRACTION_FAILED.value,
            "message": "reading the PDF needs more memory than ELS allows",
            "details": {"reason": "memory_cap"},
        }
    sys.stdout.write(json.dumps(answer))
    sys.stdout.flush()


if __name__ == "__main__":
    _child(sys.argv[1])
