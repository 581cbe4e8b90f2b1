"""Screening: which submissions of a wave count, and why the others do not.

One rule, used by tidy (each decision that leaves a submission out becomes a row of
``quality.csv``) and by the fieldwork monitor (each becomes a flag of ``monitor.html``), so the two
never disagree. :func:`screen` walks a wave's submissions in upload order and tries, in this order:

1. ``same_submission_twice``: the same ``_id`` twice in the data (an export row repeated): one copy
   is kept; two *different* submissions under one ``_id`` stop the run;
2. ``duplicate_upload``: the same ``meta/instanceID`` under two ``_id`` (a phone that sent a form
   twice): the later upload is kept, in the place of the first;
3. ``not_approved`` / ``not_yet_approved``: not counted under the study's ``validation`` rule
   (:func:`counts`: by default everything but *Not Approved*; ``approved_only``: *Approved* only);
4. ``no_consent``: the consent question (:meth:`pipeline.instrument.Instrument.consent_question`)
   was not answered with the answer that gives consent;
5. ``no_respondent``: nobody was picked from the roster; ``not_on_roster``: the id picked is not on
   the wave's roster (tidy stops on both: the form cannot produce them);
6. ``respondent_twice``: a respondent's earlier submission, when a later one of the same person
   counts (the later one is kept).

What is left is ``counted``. The monitor's own checks (too short, straightlining, named nobody,
bad times, old form version, …) are about the interviews' quality, not about counting, and stay in
:mod:`pipeline.monitor`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

from .errors import SinergiError
from .instrument import Consent, Instrument
from .sources.raw import validation_status

COUNTED = "counted"
#: why a submission does not count, in the order the rules are tried
REASONS = ("same_submission_twice", "duplicate_upload", "not_approved", "not_yet_approved", "no_consent",
           "no_respondent", "not_on_roster", "respondent_twice")
#: KoboToolbox's validation status uids and their names on the website
VALIDATION = {"validation_status_approved": "Approved", "validation_status_not_approved": "Not Approved",
              "validation_status_on_hold": "On Hold"}


def counts(status: str, validation: str = "exclude_not_approved") -> bool:
    """Whether a submission with validation status ``status`` (a ``_validation_status.uid``,
    ``""`` when none) enters the analysis under the study's ``validation`` rule.

    >>> counts("validation_status_on_hold"), counts("validation_status_on_hold", "approved_only")
    (True, False)
    >>> counts("validation_status_not_approved")
    False
    """
    if validation == "approved_only":
        return status == "validation_status_approved"
    return status != "validation_status_not_approved"


def gave_consent(sub: dict[str, Any], keys: dict[str, str], consent: Consent | None) -> bool:
    """Whether ``sub`` answered the consent question with the answer that gives consent (True for
    a form without a consent question)."""
    return consent is None or sub.get(keys[consent.question.name]) == consent.answer


def upload_order(subs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``subs`` in the order they were uploaded (``_submission_time``, then ``_id``)."""
    return sorted(subs, key=lambda s: (str(s.get("_submission_time", "")), s.get("_id", 0)))


@dataclass(frozen=True)
class Decision:
    """Whether one submission counts, and if not, why.

    ``reason`` is :data:`COUNTED` or one of :data:`REASONS`; ``field`` and ``value`` are the
    submission key the reason is about and the value found there (as found: ``None`` when absent);
    ``kept`` the ``_id`` kept instead of this one (a duplicate, a respondent's earlier
    submission); ``respondent`` the roster id picked (``""`` when not read: a duplicate); ``keys``
    question name → key in this submission (empty for a duplicate, which is not read).
    """

    submission: dict[str, Any]
    reason: str
    field: str = ""
    value: Any = ""
    kept: str = ""
    respondent: str = ""
    keys: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def submission_id(self) -> str:
        return str(self.submission.get("_id", ""))

    @property
    def counted(self) -> bool:
        return self.reason == COUNTED


def screen(submissions: list[dict[str, Any]], roster: list[str], inst: Instrument,
           keys: Callable[[dict[str, Any]], dict[str, str]], *, validation: str = "exclude_not_approved",
           wave: str = "") -> list[Decision]:
    """Decide, for every submission of one wave, whether it counts (see the module docstring).

    Parameters
    ----------
    submissions
        The wave's current submissions (API JSON shape), in any order.
    roster
        The wave's roster ids.
    inst
        The instrument: its respondent question and consent question.
    keys
        Submission → question name → key (:meth:`pipeline.sources.raw.FormVersions.xpaths`);
        called once for each submission read (not for duplicates).
    validation
        The study's ``validation`` rule.
    wave
        The wave's id, for messages.

    Returns
    -------
    list of Decision
        One per submission: first those left out, in the order decided (a submission replaced by
        a later one is decided when the later one is read), then the counted ones, one per
        respondent, in the order of each respondent's first counted submission.

    Raises
    ------
    SinergiError
        Two different submissions share an ``_id``.
    """
    decisions: list[Decision] = []
    unique = _unique_instances(_unique_ids(submissions, wave, decisions), decisions)
    respondent = inst.respondent_question()
    consent = inst.consent_question()
    on_roster = set(roster)
    kept: dict[str, Decision] = {}
    for sub in unique:
        xp = keys(sub)
        rid_key = xp[respondent.name]
        rid = sub.get(rid_key)
        status = validation_status(sub)
        if not counts(status, validation):
            reason = "not_approved" if status == "validation_status_not_approved" else "not_yet_approved"
            decisions.append(Decision(sub, reason, "_validation_status", status or "none", keys=xp))
        elif not gave_consent(sub, xp, consent):
            key = xp[consent.question.name]
            decisions.append(Decision(sub, "no_consent", key, sub.get(key, ""), keys=xp))
        elif not rid or rid not in on_roster:
            decisions.append(Decision(sub, "not_on_roster" if rid else "no_respondent", rid_key, rid,
                                      respondent=str(rid or ""), keys=xp))
        else:
            if rid in kept:
                old = kept[rid]
                decisions.append(Decision(old.submission, "respondent_twice", rid_key, rid, kept=str(sub.get("_id")),
                                          respondent=rid, keys=old.keys))
            kept[rid] = Decision(sub, COUNTED, respondent=rid, keys=xp)  # the last one wins
    return decisions + list(kept.values())


def _unique_ids(subs: list[dict[str, Any]], wave: str, decisions: list[Decision]) -> list[dict[str, Any]]:
    """One copy per ``_id`` (an export may repeat a row; pages are one row per ``_id`` already),
    in upload order; each extra copy is decided ``same_submission_twice``."""
    by_id: dict[Any, dict] = {}
    for s in subs:
        sid = s.get("_id")
        if sid in by_id:
            if by_id[sid] != s:
                raise SinergiError(f"wave {wave}: two different submissions share _id {sid} "
                                   f"({by_id[sid].get('meta/instanceID', '?')} and {s.get('meta/instanceID', '?')}); "
                                   "an _id belongs to one submission: was the export edited or two exports merged?")
            decisions.append(Decision(by_id[sid], "same_submission_twice", "_id", sid, kept=str(sid)))
        by_id[sid] = s
    return upload_order(list(by_id.values()))


def _unique_instances(ordered: list[dict[str, Any]], decisions: list[Decision]) -> list[dict[str, Any]]:
    """One upload per ``meta/instanceID``: the later upload, in the place of the first; each earlier
    one is decided ``duplicate_upload``."""
    by_instance: dict[str, dict] = {}
    for s in ordered:
        iid = s.get("meta/instanceID") or f"_id:{s.get('_id')}"
        if iid in by_instance:
            decisions.append(Decision(by_instance[iid], "duplicate_upload", "meta/instanceID", iid,
                                      kept=str(s.get("_id"))))
        by_instance[iid] = s
    return list(by_instance.values())
