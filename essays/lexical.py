"""Lexical diversity: type-token ratio, MATTR (Covington & McFall 2010) and MTLD (McCarthy & Jarvis 2010).

MATTR is the mean type-token ratio of every window of 50 consecutive tokens (the whole text's ratio when
it is shorter), so unlike the plain ratio it does not fall as an essay grows longer.

MTLD is the mean length of runs of tokens whose type-token ratio stays above 0.72, averaged over a
forward and a backward pass, with a partial factor for the last run. It is stable from about 100
tokens; for shorter texts it is reported all the same. A text whose ratio never falls to 0.72 (every
token new) has no factor, and its MTLD is its token count, the value the runs tend to.
"""

from __future__ import annotations

from collections.abc import Sequence

MTLD_THRESHOLD = 0.72
MATTR_WINDOW = 50


def type_token_ratio(tokens: Sequence[str]) -> float:
    """Distinct tokens over all tokens (0.0 for no tokens)."""
    return len(set(tokens)) / len(tokens) if tokens else 0.0


def mattr(tokens: Sequence[str], window: int = MATTR_WINDOW) -> float:
    """Moving-average type-token ratio over windows of `window` tokens (0.0 for no tokens)."""
    if len(tokens) <= window:
        return type_token_ratio(tokens)
    counts: dict[str, int] = {}
    for token in tokens[:window]:
        counts[token] = counts.get(token, 0) + 1
    total = len(counts)
    for leaving, entering in zip(tokens, tokens[window:], strict=False):
        counts[leaving] -= 1
        if counts[leaving] == 0:
            del counts[leaving]
        counts[entering] = counts.get(entering, 0) + 1
        total += len(counts)
    return total / ((len(tokens) - window + 1) * window)


def mtld(tokens: Sequence[str]) -> float:
    """Measure of textual lexical diversity of case-folded tokens (0.0 for no tokens)."""
    if not tokens:
        return 0.0
    forward = _mtld_pass(tokens)
    backward = _mtld_pass(tokens[::-1])
    return (forward + backward) / 2


def _mtld_pass(tokens: Sequence[str]) -> float:
    factors = 0.0
    types: set[str] = set()
    run = 0
    ratio = 1.0
    for token in tokens:
        run += 1
        types.add(token)
        ratio = len(types) / run
        if ratio <= MTLD_THRESHOLD:
            factors += 1
            types = set()
            run = 0
            ratio = 1.0
    if run:
        factors += (1 - ratio) / (1 - MTLD_THRESHOLD)
    return len(tokens) / factors if factors else float(len(tokens))
