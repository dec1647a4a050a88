"""Reading Prometheus exposition text, and the alert rules of deploy/prometheus/alerts.yml evaluated on it.

ELS's rules use two PromQL shapes only, and this evaluates exactly those, per series as Prometheus
does: `<selector> > N` on the latest scrape, and `increase(<selector>[<range>]) > N` between two scrapes
taken inside the range. A rule of any other shape is refused, so a new rule cannot go untested.
The exposition text is parsed with prometheus_client's own parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"

_SELECTOR = r"(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>[^}]*)\})?"
_PLAIN = re.compile(rf"^{_SELECTOR}\s*>\s*(?P<threshold>[0-9.]+)$")
_INCREASE = re.compile(rf"^increase\({_SELECTOR}\[(?P<range>[0-9]+[smh])\]\)\s*>\s*(?P<threshold>[0-9.]+)$")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"\s*')


@dataclass(frozen=True)
class Rule:
    """One alerting rule: its name, its expression taken apart, and how long it must hold."""

    alert: str
    expr: str
    metric: str
    labels: dict[str, str]
    threshold: float
    increase: bool
    hold: str | None

    def fires(self, before: str, after: str) -> bool:
        """Whether the expression is true for some series, given a scrape before and one after."""
        now = series(after, self.metric, self.labels)
        if not self.increase:
            return any(value > self.threshold for value in now.values())
        then = series(before, self.metric, self.labels)
        return any(value - then.get(key, 0.0) > self.threshold for key, value in now.items())


def _labels(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    pairs = [_LABEL.fullmatch(part) for part in text.split(",")]
    if any(pair is None for pair in pairs):
        raise ValueError(f"label matchers other than = are not evaluated: {text}")
    return {pair.group(1): pair.group(2) for pair in pairs if pair is not None}


def parse_rule(alert: str, expr: str, hold: str | None) -> Rule:
    """A rule of one of the two evaluated shapes; ValueError for anything else."""
    for pattern, increase in ((_INCREASE, True), (_PLAIN, False)):
        match = pattern.fullmatch(expr.strip())
        if match is not None:
            return Rule(
                alert=alert,
                expr=expr,
                metric=match.group("name"),
                labels=_labels(match.group("labels")),
                threshold=float(match.group("threshold")),
                increase=increase,
                hold=hold,
            )
    raise ValueError(f"{alert}: expression shape not evaluated by the tests: {expr}")


def load_rules(path: Path = RULES) -> dict[str, Rule]:
    """Every rule of the file, by alert name."""
    document = yaml.safe_load(path.read_text())
    rules = [rule for group in document["groups"] for rule in group["rules"]]
    return {rule["alert"]: parse_rule(rule["alert"], rule["expr"], rule.get("for")) for rule in rules}


def series(text: str, metric: str, labels: dict[str, str]) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample of `metric` whose labels match, keyed by its label set."""
    found: dict[tuple[tuple[str, str], ...], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == metric and all(sample.labels.get(k) == v for k, v in labels.items()):
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def sample(text: str, metric: str, **labels: str) -> float:
    """The sum of `metric`'s samples whose labels match (0 when there is none)."""
    return sum(series(text, metric, labels).values())
