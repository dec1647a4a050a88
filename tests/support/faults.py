"""Fault injection for tests: uploads and texts that make processing or analysis fail on purpose.

Only the harness installs these, never production code. An upload whose filename starts with
`fault-raise-` makes processing raise RuntimeError; one starting with `fault-crash-` ends the process
at once (`os._exit(137)`, as the OOM killer would); one starting with `fault-hang-` never returns (until
a time limit stops it). A text holding `ANALYSIS_FAULT_MARK` makes analysis
raise RuntimeError. When `FAULT_LOG_ENV` names a file, every faulty call appends its filename (or the
mark) there first, so a test can count how often a fault ran, across processes.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from essays.analysis import EssayAnalysis
from essays.analysis import analyse_text as real_analyse_text
from essays.extract import PdfReader
from essays.pdf_extraction import extract_pdf_text
from essays.upload import ProcessedEssay
from essays.upload import process_upload as real_process_upload
from essays.validate import Limits
from services import analysis, process

RAISE_PREFIX = "fault-raise-"
CRASH_PREFIX = "fault-crash-"
HANG_PREFIX = "fault-hang-"
ANALYSIS_FAULT_MARK = "analysisfaultmark"
FAULT_LOG_ENV = "ELS_TEST_FAULT_LOG"


def note_fault(what: str) -> None:
    """Append `what` to the fault log, if one is configured; flushed before any crash."""
    log = os.environ.get(FAULT_LOG_ENV)
    if log:
        with Path(log).open("a") as file:
            file.write(what + "\n")


def faulty_process_upload(
    data: bytes, filename: str, limits: Limits, pdf_text: PdfReader = extract_pdf_text
) -> ProcessedEssay:
    """`essays.upload.process_upload`, except for uploads named to fail."""
    if filename.startswith(CRASH_PREFIX):
        note_fault(filename)
        os._exit(137)
    if filename.startswith(HANG_PREFIX):
        note_fault(filename)
        while True:  # until the task's time limit stops it
            time.sleep(1)
    if filename.startswith(RAISE_PREFIX):
        note_fault(filename)
        raise RuntimeError(f"injected processing fault for {filename}")
    return real_process_upload(data, filename, limits, pdf_text)


def faulty_analyse_text(text: str, language: str) -> EssayAnalysis:
    """`essays.analysis.analyse_text`, except for texts carrying the mark."""
    if ANALYSIS_FAULT_MARK in text:
        note_fault(ANALYSIS_FAULT_MARK)
        raise RuntimeError("injected analysis fault")
    return real_analyse_text(text, language)


def install_faults(patch: pytest.MonkeyPatch) -> None:
    """Route the services' calls through the faulty versions, in this process, until `patch` is undone."""
    patch.setattr(process, "process_upload", faulty_process_upload)
    patch.setattr(analysis, "analyse_text", faulty_analyse_text)


def fault_count(log: Path, what: str) -> int:
    """How many times the fault named `what` ran, according to the fault log."""
    if not log.exists():
        return 0
    return sum(1 for line in log.read_text().splitlines() if line == what)
