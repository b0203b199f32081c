"""The evaluation's floors and its printed report: per-category confusion table, DJ metadata.

::

    make evaluate        # or: .venv/bin/python -m tests.evaluation

The floors (checked here and by ``test_evaluation.py`` in CI): precision >= 0.995 and
recall >= 0.95 overall, recall >= 0.85 in every category, no false positive at all in a
category that holds hard negatives (rows whose track is absent), and BPM + Camelot right
on >= 0.95 of the true matches. "Right" compares with the catalogue record of the
expected id: BPM within 0.5, Camelot equal (both absent when the record has no key).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from enrichment_sandbox.catalogue import load_catalogue
from enrichment_server.enrichment.musical_key import key_from_pitch_class
from enrichment_server.telemetry.logs import configure_logging
from tests.evaluation.run import Counts, Outcome, Report, evaluate, load_queries

PRECISION_FLOOR = 0.995
RECALL_FLOOR = 0.95
CATEGORY_RECALL_FLOOR = 0.85
METADATA_FLOOR = 0.95
BPM_TOLERANCE = 0.5


def metadata_ok(outcome: Outcome) -> bool:
    """Whether a true match carries the expected record's BPM (within 0.5) and Camelot key."""
    record = load_catalogue().by_spotify_id(outcome.query.expect or "")
    if record is None:
        return False
    key = key_from_pitch_class(record.pitch_class, record.mode)
    camelot = key.camelot if key is not None else None
    bpm_ok = outcome.bpm is not None and abs(outcome.bpm - record.tempo) <= BPM_TOLERANCE
    return bpm_ok and outcome.camelot == camelot


@dataclass(frozen=True, slots=True)
class Metadata:
    """How many true matches carry the right BPM and Camelot key."""

    right: int
    matches: int

    @classmethod
    def of(cls, outcomes: Iterable[Outcome]) -> Metadata:
        """Tally the true matches among ``outcomes``."""
        matches = [o for o in outcomes if o.verdict == "TP"]
        return cls(sum(metadata_ok(o) for o in matches), len(matches))

    @property
    def share(self) -> float | None:
        """right / matches; None without matches."""
        return self.right / self.matches if self.matches else None


def _has_negatives(outcomes: Iterable[Outcome]) -> bool:
    return any(o.query.expect is None for o in outcomes)


def misses(report: Report) -> list[str]:
    """Every floor the report misses, in words ([] when all are met)."""
    overall, found = report.overall, []
    if (overall.precision or 0.0) < PRECISION_FLOOR:
        found.append(f"precision {overall.precision} < {PRECISION_FLOOR}")
    if (overall.recall or 0.0) < RECALL_FLOOR:
        found.append(f"recall {overall.recall} < {RECALL_FLOOR}")
    for name, counts in report.by_category().items():
        if counts.recall is not None and counts.recall < CATEGORY_RECALL_FLOOR:
            found.append(f"{name}: recall {counts.recall:.3f} < {CATEGORY_RECALL_FLOOR}")
        members = [o for o in report.outcomes if o.query.category == name]
        if counts.fp and _has_negatives(members):
            found.append(f"{name}: {counts.fp} false positive(s) in a hard-negative category")
    share = Metadata.of(report.outcomes).share
    if share is not None and share < METADATA_FLOOR:
        found.append(f"BPM + Camelot right on {share:.3f} of matches < {METADATA_FLOOR}")
    return found


def _ratio(value: float | None) -> str:
    return "    -" if value is None else f"{value:5.3f}"


def _line(name: str, counts: Counts, meta: Metadata) -> str:
    return (
        f"{name:<16}{counts.total:>5}{counts.tp:>5}{counts.fp:>5}{counts.fn:>5}{counts.tn:>5}"
        f"  {_ratio(counts.precision)}  {_ratio(counts.recall)}  {meta.right:>4}/{meta.matches:<4}"
    )


def describe(outcome: Outcome) -> str:
    """One readable line for a confusion case."""
    query = outcome.query
    confidence = "-" if outcome.confidence is None else f"{outcome.confidence:.3f}"
    return (
        f"{outcome.verdict} [{query.category}] {query.artist!r} - {query.title!r}: "
        f"expected {query.expect}, got {outcome.got} (confidence {confidence}, {outcome.status})"
    )


def describe_metadata(outcome: Outcome) -> str:
    """One readable line for a true match whose BPM or Camelot key is wrong or missing."""
    record = load_catalogue().by_spotify_id(outcome.query.expect or "")
    key = key_from_pitch_class(record.pitch_class, record.mode) if record else None
    wanted = f"{record.tempo if record else '?'} {key.camelot if key else None}"
    return (
        f"META [{outcome.query.category}] {outcome.query.artist!r} - {outcome.query.title!r}: "
        f"expected {wanted}, got {outcome.bpm} {outcome.camelot}"
    )


def render(report: Report) -> str:
    """The per-category table, the floors, then every confusion and metadata miss."""
    overall, header = report.overall, f"{'category':<16}{'n':>5}"
    categories = report.by_category()
    lines = [
        f"{header}{'TP':>5}{'FP':>5}{'FN':>5}{'TN':>5}  {'prec':>5}  {'rec':>5}  bpm+key",
        *(
            _line(name, counts, Metadata.of(o for o in report.outcomes if o.query.category == name))
            for name, counts in categories.items()
        ),
        _line("OVERALL", overall, Metadata.of(report.outcomes)),
        "",
        f"precision {_ratio(overall.precision)} (floor {PRECISION_FLOOR}), "
        f"recall {_ratio(overall.recall)} (floor {RECALL_FLOOR}; {CATEGORY_RECALL_FLOOR} per "
        f"category), BPM + Camelot right on {_ratio(Metadata.of(report.outcomes).share)} of "
        f"matches (floor {METADATA_FLOOR}), {overall.total} queries in {report.duration_s:.1f}s",
    ]
    wrong_metadata = [o for o in report.outcomes if o.verdict == "TP" and not metadata_ok(o)]
    if report.confusions or wrong_metadata:
        lines.append("")
    lines += [describe(o) for o in report.confusions]
    lines += [describe_metadata(o) for o in wrong_metadata]
    return "\n".join(lines)


def main() -> int:
    """Run the evaluation, print the report; 0 when every floor is met, else 1."""
    configure_logging("WARNING")  # the server's one-line-per-RPC INFO logs would drown the table
    report = asyncio.run(evaluate(load_queries()))
    print(render(report))
    failed = misses(report)
    if not failed:
        return 0
    print("\nFAIL: " + "; ".join(failed), file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
