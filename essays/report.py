"""A sealed batch's report: what happened to every slot, and the batch means of each measure.

`build_report` is pure and deterministic: rows are ordered by essay id and means are summed exactly
(`math.fsum`) over the analysed essays, so the same facts always give the same report. It refuses facts
that do not account for every expected slot exactly once.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from els.errors import InvalidInputError
from els.jsontypes import JsonObject
from essays.analysis import DECIMALS, EssayAnalysis
from essays.lifecycle import EssayState


@dataclass(frozen=True)
class BatchFacts:
    """What the coordinator knows of the batch as a whole."""

    batch_id: str
    expected: int
    excess: int = 0
    duplicates: int = 0


@dataclass(frozen=True)
class AnalysedEssay:
    """A slot whose essay was analysed."""

    essay_id: str
    analysis: EssayAnalysis


@dataclass(frozen=True)
class EssayFailure:
    """A slot whose upload was rejected, or whose analysis failed, with the error's stable code."""

    essay_id: str
    code: str
    message: str


@dataclass(frozen=True)
class ReportRow:
    """One slot of the report."""

    essay_id: str
    status: EssayState
    code: str | None = None
    message: str | None = None
    analysis: EssayAnalysis | None = None

    def to_json(self) -> JsonObject:
        """The row as a JSON object."""
        return {
            "essay_id": self.essay_id,
            "status": self.status.value,
            "code": self.code,
            "message": self.message,
            "analysis": None if self.analysis is None else self.analysis.to_json(),
        }


@dataclass(frozen=True)
class ReportCounts:
    """How many slots ended each way, and the uploads that took no slot."""

    expected: int
    analysed: int
    failed: int
    analysis_failed: int
    missing: int
    excess: int
    duplicates: int

    def to_json(self) -> JsonObject:
        """The counts as a JSON object."""
        return {
            "expected": self.expected,
            "analysed": self.analysed,
            "failed": self.failed,
            "analysis_failed": self.analysis_failed,
            "missing": self.missing,
            "excess": self.excess,
            "duplicates": self.duplicates,
        }


@dataclass(frozen=True)
class MeasureMeans:
    """Means over the analysed essays; None when no essay has the measure."""

    words: float | None
    spelling_errors_per_100_words: float | None
    readability: float | None
    type_token_ratio: float | None
    mtld: float | None
    mean_sentence_length: float | None
    mattr: float | None = None

    def to_json(self) -> JsonObject:
        """The means as a JSON object."""
        return {
            "words": self.words,
            "spelling_errors_per_100_words": self.spelling_errors_per_100_words,
            "readability": self.readability,
            "type_token_ratio": self.type_token_ratio,
            "mtld": self.mtld,
            "mean_sentence_length": self.mean_sentence_length,
            "mattr": self.mattr,
        }


@dataclass(frozen=True)
class BatchReport:
    """The report of one batch."""

    batch_id: str
    counts: ReportCounts
    means: MeasureMeans
    rows: tuple[ReportRow, ...]

    def to_json(self) -> JsonObject:
        """The report as a JSON object."""
        return {
            "batch_id": self.batch_id,
            "counts": self.counts.to_json(),
            "means": self.means.to_json(),
            "essays": [row.to_json() for row in self.rows],
        }


def build_report(
    facts: BatchFacts,
    analysed: Sequence[AnalysedEssay],
    failed: Sequence[EssayFailure],
    analysis_failed: Sequence[EssayFailure],
    missing: Sequence[str],
) -> BatchReport:
    """Aggregate every slot's outcome; INVALID_INPUT unless each expected slot appears exactly once."""
    rows = [
        *(ReportRow(item.essay_id, EssayState.ANALYSED, analysis=item.analysis) for item in analysed),
        *(ReportRow(item.essay_id, EssayState.FAILED, item.code, item.message) for item in failed),
        *(
            ReportRow(item.essay_id, EssayState.ANALYSIS_FAILED, item.code, item.message)
            for item in analysis_failed
        ),
        *(ReportRow(essay_id, EssayState.MISSING) for essay_id in missing),
    ]
    _check_accounts(facts, rows)
    counts = ReportCounts(
        expected=facts.expected,
        analysed=len(analysed),
        failed=len(failed),
        analysis_failed=len(analysis_failed),
        missing=len(missing),
        excess=facts.excess,
        duplicates=facts.duplicates,
    )
    ordered = sorted(rows, key=_essay_id)
    analyses = [row.analysis for row in ordered if row.analysis is not None]
    return BatchReport(facts.batch_id, counts, _means(analyses), tuple(ordered))


def _essay_id(row: ReportRow) -> str:
    return row.essay_id


def _check_accounts(facts: BatchFacts, rows: list[ReportRow]) -> None:
    repeated = sorted(
        essay_id for essay_id, seen in Counter(row.essay_id for row in rows).items() if seen > 1
    )
    if repeated:
        raise InvalidInputError(
            f"essays reported more than once: {', '.join(repeated)}", details={"batch_id": facts.batch_id}
        )
    if len(rows) != facts.expected:
        raise InvalidInputError(
            f"the report accounts for {len(rows)} slots of {facts.expected}",
            details={"batch_id": facts.batch_id, "accounted": len(rows), "expected": facts.expected},
        )


def _means(analyses: list[EssayAnalysis]) -> MeasureMeans:
    return MeasureMeans(
        words=_mean([float(item.words) for item in analyses]),
        spelling_errors_per_100_words=_mean([item.spelling_errors_per_100_words for item in analyses]),
        readability=_mean([item.readability for item in analyses if item.readability is not None]),
        type_token_ratio=_mean([item.type_token_ratio for item in analyses]),
        mtld=_mean([item.mtld for item in analyses]),
        mean_sentence_length=_mean([item.mean_sentence_length for item in analyses]),
        mattr=_mean([item.mattr for item in analyses if item.mattr is not None]),
    )


def _mean(values: list[float]) -> float | None:
    return round(math.fsum(values) / len(values), DECIMALS) if values else None
