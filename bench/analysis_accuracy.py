"""How the analysis measures agree with references, on 50 prose passages shipped with the tests.

Run: `uv run python bench/analysis_accuracy.py`. The passages (tests/fixtures/prose/passages.json) are
paragraphs of documentation Debian ships under permissive licences. It reports:
- syllables: how often ELS's count (CMUdict, then its estimate) and textstat's (pyphen) agree with CMUdict
  on every distinct word of the passages that CMUdict knows, and how often ELS's estimate alone would;
  then the two fallbacks for a word CMUdict lacks, ELS's estimate and pyphen's hyphenation points (what
  textstat falls back to), each alone on every 50th CMUdict word, as if the dictionary lacked it;
- readability: the Flesch-Kincaid grade from ELS's counts against textstat's, per passage, and again with
  textstat's words and syllables over ELS's sentences (textstat ends a sentence at ".xz" or "e.g.");
- spelling: errors per 100 words ELS finds in this published, proofread prose (an upper bound on its
  false positives: technical terms and names count too).
The last line printed is one JSON object.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

if not __package__:
    # Run as a script, bench/ comes first on sys.path and would shadow the project's packages.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import pyphen
import textstat

from essays.readability import count_syllables, estimated_syllables, pronounced_syllables
from essays.spelling import count_spelling_errors
from essays.tokens import sentences, words

PASSAGES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "prose" / "passages.json"


def grade(words_count: int, sentence_count: int, syllables: int) -> float:
    """Flesch-Kincaid grade level (Kincaid et al. 1975)."""
    return 0.39 * words_count / sentence_count + 11.8 * syllables / words_count - 15.59


def main() -> None:
    passages = [str(item["text"]) for item in json.loads(PASSAGES.read_text())]
    reference = pronounced_syllables()
    vocabulary = sorted({word.lower() for text in passages for word in words(text)} & set(reference))
    agree = sum(count_syllables(word, "en") == reference[word] for word in vocabulary)
    estimate_agrees = sum(estimated_syllables(word, "en") == reference[word] for word in vocabulary)
    textstat_agrees = sum(textstat.syllable_count(word) == reference[word] for word in vocabulary)
    # The fallback for words CMUdict lacks, tried on words it has: a broad, fixed sample of its entries.
    sample = [word for word in sorted(reference)[::50] if word.isalpha()]
    hyphenation = pyphen.Pyphen(lang="en_US")
    sample_estimate = sum(estimated_syllables(word, "en") == reference[word] for word in sample)
    sample_pyphen = sum(len(hyphenation.positions(word)) + 1 == reference[word] for word in sample)

    differences, same_sentences, errors, total_words = [], [], 0, 0
    for text in passages:
        tokens, sentence_count = words(text), len(sentences(text))
        ours = grade(len(tokens), sentence_count, sum(count_syllables(word, "en") for word in tokens))
        differences.append(abs(ours - textstat.flesch_kincaid_grade(text)))
        theirs = grade(textstat.lexicon_count(text), sentence_count, textstat.syllable_count(text))
        same_sentences.append(abs(ours - theirs))
        errors += count_spelling_errors(tokens, "en")
        total_words += len(tokens)
    figures = {
        "passages": len(passages),
        "words": total_words,
        "distinct_words_in_cmudict": len(vocabulary),
        "syllables_agree_with_cmudict": round(agree / len(vocabulary), 4),
        "estimate_alone_agrees_with_cmudict": round(estimate_agrees / len(vocabulary), 4),
        "textstat_agrees_with_cmudict": round(textstat_agrees / len(vocabulary), 4),
        "fallback_sample_words": len(sample),
        "fallback_estimate_agrees_with_cmudict": round(sample_estimate / len(sample), 4),
        "fallback_pyphen_agrees_with_cmudict": round(sample_pyphen / len(sample), 4),
        "grade_difference_to_textstat_median": round(statistics.median(differences), 2),
        "grade_difference_to_textstat_max": round(max(differences), 2),
        "passages_within_half_a_grade": sum(difference <= 0.5 for difference in differences),
        "within_half_a_grade_given_the_same_sentences": sum(
            difference <= 0.5 for difference in same_sentences
        ),
        "spelling_errors_per_100_words": round(100 * errors / total_words, 2),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
