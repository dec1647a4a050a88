"""Report aggregation: exact counts, ordered rows, exact means; the same facts give the same report."""

from __future__ import annotations

import random

import pytest

from els.errors import InvalidInputError
from essays.analysis import EssayAnalysis
from essays.lifecycle import EssayState
from essays.report import AnalysedEssay, BatchFacts, EssayFailure, build_report


def analysis(words: int, readability: float | None, ttr: float, spelling: float = 1.0) -> EssayAnalysis:
    return EssayAnalysis(
        language="en",
        words=words,
        sentences=words // 10,
        spelling_errors=int(spelling * words / 100),
        spelling_errors_per_100_words=spelling,
        readability=readability,
        readability_formula=None if readability is None else "flesch_reading_ease",
        type_token_ratio=ttr,
        mtld=ttr * 100,
        mean_sentence_length=10.0,
    )


FACTS = BatchFacts(batch_id="b-1", expected=6, excess=2, duplicates=1)
ANALYSED = [
    AnalysedEssay("e-3", analysis(200, 60.0, 0.5, spelling=2.0)),
    AnalysedEssay("e-1", analysis(100, 70.0, 0.7)),
    AnalysedEssay("e-5", analysis(300, None, 0.6, spelling=0.0)),
]
FAILED = [EssayFailure("e-2", "EMPTY_CONTENT", "the file is empty")]
ANALYSIS_FAILED = [EssayFailure("e-4", "UNSUPPORTED_LANGUAGE", "essays in 'sv' cannot be analysed")]
MISSING = ["e-6"]


def test_counts_cover_every_outcome() -> None:
    report = build_report(FACTS, ANALYSED, FAILED, ANALYSIS_FAILED, MISSING)
    assert report.counts.to_json() == {
        "expected": 6,
        "analysed": 3,
        "failed": 1,
        "analysis_failed": 1,
        "missing": 1,
        "excess": 2,
        "duplicates": 1,
    }


def test_rows_are_ordered_by_essay_id_with_their_status_and_code() -> None:
    report = build_report(FACTS, ANALYSED, FAILED, ANALYSIS_FAILED, MISSING)
    assert [(row.essay_id, row.status, row.code) for row in report.rows] == [
        ("e-1", EssayState.ANALYSED, None),
        ("e-2", EssayState.FAILED, "EMPTY_CONTENT"),
        ("e-3", EssayState.ANALYSED, None),
        ("e-4", EssayState.ANALYSIS_FAILED, "UNSUPPORTED_LANGUAGE"),
        ("e-5", EssayState.ANALYSED, None),
        ("e-6", EssayState.MISSING, None),
    ]


def test_means_are_over_analysed_essays_and_skip_missing_readability() -> None:
    means = build_report(FACTS, ANALYSED, FAILED, ANALYSIS_FAILED, MISSING).means
    assert means.words == 200.0
    assert means.readability == 65.0
    assert means.type_token_ratio == 0.6
    assert means.spelling_errors_per_100_words == 1.0
    assert means.mtld == 60.0
    assert means.mean_sentence_length == 10.0


def test_a_batch_with_nothing_analysed_has_no_means() -> None:
    report = build_report(BatchFacts("b-2", expected=2), [], FAILED, [], ["e-6"])
    assert set(report.means.to_json().values()) == {None}
    assert report.counts.analysed == 0


def test_the_same_facts_in_any_order_give_the_same_report() -> None:
    first = build_report(FACTS, ANALYSED, FAILED, ANALYSIS_FAILED, MISSING)
    shuffled = list(ANALYSED)
    random.Random(3).shuffle(shuffled)
    again = build_report(FACTS, shuffled, FAILED, ANALYSIS_FAILED, MISSING)
    assert again == first
    assert again.to_json() == first.to_json()


def test_report_json_has_counts_means_and_one_row_per_slot() -> None:
    value = build_report(FACTS, ANALYSED, FAILED, ANALYSIS_FAILED, MISSING).to_json()
    assert value["batch_id"] == "b-1"
    rows = value["essays"]
    assert isinstance(rows, list)
    assert rows[1] == {
        "essay_id": "e-2",
        "status": "failed",
        "code": "EMPTY_CONTENT",
        "message": "the file is empty",
        "analysis": None,
    }
    first = rows[0]
    assert isinstance(first, dict)
    assert first["analysis"] == ANALYSED[1].analysis.to_json()


def test_an_essay_reported_twice_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="e-2"):
        build_report(FACTS, ANALYSED, FAILED, [EssayFailure("e-2", "X", "x")], MISSING)


def test_facts_that_do_not_account_for_every_slot_are_refused() -> None:
    with pytest.raises(InvalidInputError) as raised:
        build_report(FACTS, ANALYSED, FAILED, ANALYSIS_FAILED, [])
    assert raised.value.details == {"batch_id": "b-1", "accounted": 5, "expected": 6}
