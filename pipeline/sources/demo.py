"""Demo study: a seeded simulation of a Kaloran-Brimob-like village, shaped exactly like KoboToolbox.

The demo study (``source: {kind: demo}``) has no KoboToolbox account behind it. This module writes
what ``make pull`` would have fetched from KoboToolbox API v2 for the shipped instrument, so the
demo runs through the same tidy → scales → network → prepost code as real data:

``<wave>/asset.json``
    ``GET /api/v2/assets/{uid}/``: ``content`` is :func:`pipeline.instrument.asset_content`,
    plus ``uid``, ``deployed_version_id``, ``files`` (the roster as form media) and so on.
``<wave>/versions/<vuid>.json``
    ``GET /api/v2/assets/{uid}/versions/{vuid}/`` for an older form version some submissions used.
``<wave>/media/roster.csv``
    the roster behind ``select_*_from_file`` (columns ``name,label``).
``<wave>/data/page-000001.json`` …
    ``GET /api/v2/assets/{uid}/data/?format=json&limit=100`` pages ``{count, next, previous, results}``.
``pseudonym.key``
    derived from the seed **for the demo only**, so the committed demo is reproducible; real studies
    get 256 random bits (:func:`pipeline.pull.ensure_key`).
``demo_truth.json``
    the planted truth. The analysis never reads it; tests and the curious do. Keys: ``study``,
    ``seed``, ``settings`` (n_respondents, share_migrant, waves, tie_types, design shares), ``note``,
    ``waves`` (per wave: asset_uid, deployed/old version ids, pulled_at, count, id_min/id_max,
    fieldwork dates), ``population`` (roster_size, respondents, share_lokal, refused, newcomers,
    left_roster, not_interviewed, attrition — all by roster id), ``program`` (participants),
    ``latent`` (subscales, correlations, loadings, thresholds, baseline means, ``effect`` by
    participation), ``expected_change`` / ``expected_baseline`` (score → group → participation,
    Monte Carlo on the score scale of :mod:`pipeline.analysis.scales`), ``monte_carlo``, ``missing``,
    ``network`` (model, p_new_tie, realised E-I / within-group share per wave and tie type,
    jaccard), ``economics`` (collective-action probabilities, cost factor, realised cost ratios)
    and ``faults`` (the injected data problems tidy must catch, with wave, respondent and _id).

Submissions follow the API exactly: keys are full xpaths without the root, every answer is a string
(select_multiple space-separated), unanswered questions are absent, calculate fields carry their
computed values, repeats are lists of dicts with full-path keys plus pyxform's ``<repeat>_count``.

The village
-----------
``n_respondents`` UMKM owners on the baseline roster (``share_migrant`` of them *pendatang*), a few
newcomers on the later rosters, ~10% attrition. Trust and norms answers come from correlated latent
traits (one per subscale of the scale map) through item thresholds; ties come from a homophilous
propensity model (same origin, same sector, same RT); the program (forum, trainings, collaboration
simulations) raises participants' out-group trust, norms and cross-group ties. The population, the
traits and the tie model live in :mod:`pipeline.simulation` (shared with power planning); every
number that steers them is a constant of :mod:`pipeline.simulation.constants` and is copied into
``demo_truth.json``. This module adds the village across waves, names, and the KoboToolbox shape.

Every form detail (field paths, choice names, calculations, repeats) is read from the instrument
through :mod:`pipeline.instrument` and the row annotations ``role``, ``var``, ``scale`` and
``tie_type``; nothing here names a field path.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Study
from ..errors import SinergiError
from ..instrument import Instrument, Question, asset_content, scale_map, tie_questions
from ..io import write_bytes
from ..simulation import seeds
from ..simulation.constants import (
    SHARE_NEWCOMERS, SHARE_LEFT, SHARE_NONRESPONSE, SHARE_REFUSE, SHARE_PARTICIPANTS,
    NEWCOMER_SHARE_MIGRANT, RHO_WITHIN, RHO_ACROSS, LOADING, LOADING_REVERSE,
    THRESHOLDS, CHANGE_SD, P_MISSING, P_MISSING_HIGH,
    SHARE_SKIPPERS, BASE_MEAN, MEMBER_BONUS, EFFECT, MEAN_OUTDEGREE,
    TIE_TERMS, KEEP_PROB, NEW_TIE_FACTOR, PROGRAM_BONUS, PROGRAM_BONUS_SAME,
    FREQ_PROBS, ACTION_PROBS, JOINT_PURCHASE_COST_FACTOR, REVENUE_MEDIAN, INPUT_SHARE,
    SECTOR_REVENUE, SECTOR_PROBS, MEMBERSHIP_PROBS, FORUM_MEMBER_PROB, CHANNEL_PROBS,
    BRAND_CHANNEL_BOOST, SHARE_SKIP_MONEY)
from ..simulation.networks import simulate_ties
from ..simulation.people import concat_people, draw_people, draw_participation
from ..simulation.seeds import rounded
from ..simulation.sites import comparison_name, comparison_seed, comparison_slug
from ..simulation.traits import item_params, latent_traits, likert_answers, planted_effect, score_answers
from .xlsform_eval import REF, calculate, choice_label, relevant, repeat_count_key

__all__ = ["simulate", "write_demo", "truth_expected_change", "SERVER", "PAGE_SIZE"]

# --------------------------------------------------------------------------------------------
# the settings of the simulated village (all copied into demo_truth.json)

SERVER = "https://kf.kobotoolbox.org"
OWNER = "pkm_kaloran"
ENUMERATORS = ("enum_pkm01", "enum_pkm02", "enum_pkm03")
PAGE_SIZE = 100
#: the first wave's first fieldwork day; each later wave starts WAVE_GAP_DAYS later.
FIRST_FIELDWORK = date(2026, 5, 4)
WAVE_GAP_DAYS = 182
FIELDWORK_DAYS = 18  # working days (Monday–Saturday)
N_OLD_VERSION = 6  # the first submissions of the first wave came from the older form version
MC_DRAWS = 100_000


# fictional names: Banten/Sunda for locals, from elsewhere in Indonesia for migrants
FIRST = {
    ("lokal", "f"): "Siti Euis Iis Nining Neneng Yati Enah Imas Cucu Lilis Heni Titin Ai Popon Entin Dedeh Oom Nani".split(),
    ("lokal", "m"): "Ujang Asep Dadang Jajang Entis Mulyadi Jaenudin Rohmat Sukri Haerudin Oman Encep Maman Ade Holis Mahmud Sarip Endang".split(),
    ("pendatang", "f"): "Sri Tri Wahyu Rina Yusnidar Dewi Ratna Fitri Suwarni Lestari Marlina Nurul Erna Yanti Rosmawati Desi".split(),
    ("pendatang", "m"): "Budi Joko Agus Slamet Bambang Hendra Rudi Yusuf Andi Darmawan Hotman Rizal Fadli Ismail Teguh Eko Wawan Rahmat".split(),
}
LAST = {
    ("lokal", "f"): "Aminah Rohaeti Maesaroh Fauziah Kurniasih Hasanah Jubaedah Khoeriyah Nurjanah Rosyidah Komariah Mulyani Sumiati Halimah".split(),
    ("lokal", "m"): "Suryana Sutisna Hidayat Saepulloh Mulyana Sopian Hambali Romdoni Fathurrohman Kurnia Hermawan Setiawan Sanusi Jamhari".split(),
    ("pendatang", "f"): "Wahyuni Lestari Handayani Purwanti Susanti Siregar Lubis Sembiring Rahayu Ningsih Maharani Yuliani Pertiwi Simanjuntak".split(),
    ("pendatang", "m"): "Santoso Purnomo Wibowo Siregar Nasution Sinaga Saputra Pratama Kurniawan Syahputra Harahap Gunawan Prasetyo Tanjung".split(),
}
BUSINESS = {
    "kuliner": ["warung nasi", "gorengan", "kue basah", "bakso", "seblak", "nasi uduk", "es teh jumbo",
                "pecel lele", "keripik singkong", "sate bandeng", "rumah makan padang", "jamu gendong"],
    "warung": ["warung sembako", "toko kelontong", "agen gas elpiji", "warung kopi", "toko plastik", "grosir sayur"],
    "kerajinan": ["anyaman bambu", "tas rajut", "kerajinan golok", "souvenir manik-manik"],
    "fesyen": ["penjahit", "konveksi kaos", "batik tulis", "kerudung", "sablon"],
    "jasa": ["bengkel motor", "salon", "laundry kiloan", "pangkas rambut", "servis HP", "fotokopi"],
    "pertanian": ["ternak ayam kampung", "ternak lele", "sayur hidroponik", "ternak kambing", "bibit tanaman"],
    "lainnya": ["counter pulsa", "jual pakan ternak", "toko bangunan", "depot air isi ulang"],
}
UID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


# --------------------------------------------------------------------------------------------
# deterministic helpers


def _kobo_uid(prefix: str, *parts: Any) -> str:
    n = int.from_bytes(seeds.digest(*parts), "big")
    out = []
    for _ in range(21):
        n, r = divmod(n, len(UID_ALPHABET))
        out.append(UID_ALPHABET[r])
    return prefix + "".join(out)


def _uuid(*parts: Any) -> str:
    return str(uuid.UUID(bytes=seeds.digest(*parts)[:16], version=4))


def _dumps(obj: Any) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _iso_local(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+07:00"


def _iso_utc(dt_local: datetime) -> str:
    return (dt_local - timedelta(hours=7)).strftime("%Y-%m-%dT%H:%M:%S")


# --------------------------------------------------------------------------------------------
# reading what the simulation needs from the instrument


class _Form:
    """The instrument seen by the simulator: annotated questions, choice names, calculations."""

    def __init__(self, inst: Instrument):
        self.inst = inst
        self.smap = scale_map(inst)
        if self.smap.empty:
            raise SinergiError(f"{inst.source}: the demo needs Likert items with a 'scale' annotation")
        self.smap["key"] = self.smap["dimension"] + "_" + self.smap["subscale"]
        self.subscales = list(dict.fromkeys(self.smap["key"]))
        self.ties = tie_questions(inst)
        self.respondent = inst.by_role("respondent")[0]
        self.group = inst.by_role("group")[0]
        self.roster_file = self.respondent.list_name or inst.form.get("roster_file", "roster.csv")
        self.by_var = {q.get("var"): q for q in inst.questions if q.get("var")}
        self.gate, self.gate_yes = self._consent_gate()
        self.likert_values = {}
        for item in self.smap["item"]:
            q = inst.question(item)
            names = inst.choice_names(q.list_name)
            self.likert_values[item] = sorted(names, key=float)

    def _consent_gate(self) -> tuple[Question | None, str | None]:
        """The question most other rows depend on through ``relevant: ${q} = 'value'``."""
        counts: dict[tuple[str, str], int] = {}
        for q in self.inst.questions:
            for name, value in re.findall(r"\$\{(\w+)\}\s*=\s*'([^']*)'", str(q.get("relevant") or "")):
                counts[(name, value)] = counts.get((name, value), 0) + 1
        if not counts:
            return None, None
        (name, value), _ = max(counts.items(), key=lambda kv: kv[1])
        return self.inst.question(name), value

    @property
    def gate_no(self) -> str | None:
        if self.gate is None:
            return None
        return next(c for c in self.inst.choice_names(self.gate.list_name) if c != self.gate_yes)

    def yes_no(self, q: Question) -> tuple[str, str]:
        names = self.inst.choice_names(q.list_name)
        if self.gate_yes in names:
            return self.gate_yes, next(c for c in names if c != self.gate_yes)
        return names[0], names[1]

    def none_choice(self, q: Question) -> str | None:
        """The exclusive 'none' choice named in a constraint like ``not(selected(., 'x') and …)``."""
        m = re.search(r"selected\(\s*\.\s*,\s*'([^']+)'\s*\)", str(q.get("constraint") or ""))
        return m.group(1) if m else None

    def choice_label(self, list_name: str, name: str) -> str | None:
        return choice_label(self.inst, list_name, name)


# --------------------------------------------------------------------------------------------
# the population


def truth_expected_change(form: _Form | Instrument, seed: int, share_migrant: float,
                          draws: int = MC_DRAWS) -> dict[str, Any]:
    """True expected change (later wave − first wave) of every score, by group and participation.

    Monte Carlo over ``draws`` people from the same generator as the village (deterministic).
    Returns ``{"change": {score: {group: {participation: value}}}, "baseline": {score: {group: mean}}}``
    with groups ``lokal``, ``pendatang``, ``all`` and participation ``participant``,
    ``non_participant``, ``all``.
    """
    if isinstance(form, Instrument):
        form = _Form(form)
    rng = seeds.rng(seed, "truth")
    people = draw_people(rng, draws, share_migrant, exact=False)
    part = draw_participation(rng, people, SHARE_PARTICIPANTS)
    eta = latent_traits(rng, form, people, part, 1)
    params = item_params(form, seed)
    s0 = score_answers(likert_answers(rng, eta[0], params), form)
    s1 = score_answers(likert_answers(rng, eta[1], params), form)
    groups = {"lokal": ~people["migrant"], "pendatang": people["migrant"], "all": np.ones(draws, bool)}
    who = {"participant": part, "non_participant": ~part, "all": np.ones(draws, bool)}
    change: dict[str, Any] = {}
    baseline: dict[str, Any] = {}
    for key in s0:
        d = s1[key] - s0[key]
        change[key] = {g: {w: rounded(d[gm & wm].mean()) for w, wm in who.items()} for g, gm in groups.items()}
        baseline[key] = {g: rounded(s0[key][gm].mean()) for g, gm in groups.items()}
    return {"change": change, "baseline": baseline}


# --------------------------------------------------------------------------------------------
# networks


# --------------------------------------------------------------------------------------------
# the village across waves


class _Village:
    def __init__(self, study: Study, form: _Form, *, seed: int | None = None, id_prefix: str = "u",
                 share_participants: float = SHARE_PARTICIPANTS):
        src = study.source
        self.seed = int(src.seed) if seed is None else int(seed)
        self.study = study
        self.form = form
        self.waves = study.wave_ids
        W = len(self.waves)
        n0 = int(src.n_respondents)
        seed = self.seed
        rng = seeds.rng(seed, "people")
        people = draw_people(rng, n0, float(src.share_migrant))
        n_new = int(round(SHARE_NEWCOMERS * n0)) if W > 1 else 0
        self.joined = np.zeros(n0, int)
        for k in range(1, W):
            extra = draw_people(seeds.rng(seed, "newcomers", k), n_new, NEWCOMER_SHARE_MIGRANT, newcomer=True)
            people = concat_people(people, extra)
            self.joined = np.concatenate([self.joined, np.full(n_new, k)])
        self.people = people
        n = len(people["migrant"])
        self.n = n
        self.ids = [f"{id_prefix}{i + 1:03d}" for i in range(n)]
        self.origin = np.where(people["migrant"], "pendatang", "lokal")
        self._names(rng)

        # who is on each roster, who is interviewed, who refuses
        rng = seeds.rng(seed, "flow")
        self.left_at = np.full(n, W)  # first wave no longer on the roster
        self.on_roster: list[np.ndarray] = []
        self.interviewed: list[np.ndarray] = []
        self.refused: list[np.ndarray] = []
        for k in range(W):
            present = (self.joined <= k) & (self.left_at > k)
            if k > 0:
                old = np.flatnonzero((self.joined < k) & (self.left_at > k))
                pick = rng.permutation(old)[: int(round(SHARE_LEFT * n0))]
                self.left_at[pick] = k
                present = (self.joined <= k) & (self.left_at > k)
            self.on_roster.append(present)
            inter = present.copy()
            if k > 0:
                cand = np.flatnonzero(present & (self.joined < k))
                inter[rng.permutation(cand)[: int(round(SHARE_NONRESPONSE * n0))]] = False
            refuse = np.zeros(n, bool)
            cand = np.flatnonzero(inter)
            refuse[rng.permutation(cand)[: max(1, int(round(SHARE_REFUSE * n0)))]] = True
            self.interviewed.append(inter)
            self.refused.append(refuse)
        self.consented = [i & ~r for i, r in zip(self.interviewed, self.refused)]

        # program participation and latent traits
        self.participant = draw_participation(seeds.rng(seed, "program"), people, share_participants)
        self.eta = latent_traits(seeds.rng(seed, "latent"), form, people, self.participant, W - 1)
        self.item_params = item_params(form, seed)
        rng = seeds.rng(seed, "answers")
        self.likert = [likert_answers(rng, e, self.item_params) for e in self.eta]
        skipper = rng.random(n) < SHARE_SKIPPERS
        p_miss = np.where(skipper, P_MISSING_HIGH, P_MISSING)[:, None]
        self.missing = [rng.random(l.shape) < p_miss for l in self.likert]
        tie_types = [t for t in study.tie_types if t in form.ties] or list(form.ties)
        self.tie_types = tie_types
        self.ties, self.net_info = simulate_ties(seeds.rng(seed, "network"), people, self.participant,
                                             self.on_roster, tie_types)
        self._covariates()

    def frequency(self, k: int, tie_type: str, ego: int, alter: str) -> int:
        """Frequency level (0-based) of one nomination: a deterministic draw per tie."""
        probs = np.array(FREQ_PROBS.get(tie_type, (0.25, 0.25, 0.25, 0.25)))
        u = int.from_bytes(seeds.digest(self.seed, "freq", k, tie_type, self.ids[ego], alter)[:8], "big") / 2 ** 64
        return int(np.searchsorted(np.cumsum(probs / probs.sum()), u, side="right"))

    def _names(self, rng: np.random.Generator) -> None:
        p = self.people
        labels: list[str] = []
        seen: set[str] = set()
        sectors = list(SECTOR_PROBS["lokal"])
        for i in range(self.n):
            key = (self.origin[i], "f" if p["female"][i] else "m")
            for attempt in range(200):
                first, last = rng.choice(FIRST[key]), rng.choice(LAST[key])
                name = f"{first} {last}" if attempt < 30 else f"{first} {chr(65 + int(rng.integers(0, 26)))}. {last}"
                if name not in seen:
                    break
            else:
                name = f"{name} ({i + 1})"
            seen.add(name)
            business = rng.choice(BUSINESS.get(sectors[p["sector"][i]], ["usaha"]))
            labels.append(f"{name} — {business}")
        self.labels = labels

    def _covariates(self) -> None:
        """Per wave, per person: the answer to every ``var`` question (choice names / numbers)."""
        p, seed, W, n = self.people, self.seed, len(self.waves), self.n
        rng = seeds.rng(seed, "covariates")
        sectors = list(SECTOR_PROBS["lokal"])
        log_rev = (np.log(REVENUE_MEDIAN) + 0.3 * (p["employees"] - 0.9)
                   + np.array([SECTOR_REVENUE.get(sectors[s], 0.0) for s in p["sector"]])
                   + rng.normal(0, 0.6, n))
        share_logit = (np.log(np.array([INPUT_SHARE.get(sectors[s], 0.4) for s in p["sector"]]) /
                              (1 - np.array([INPUT_SHARE.get(sectors[s], 0.4) for s in p["sector"]])))
                       + rng.normal(0, 0.35, n))
        skip_money = rng.random(n) < SHARE_SKIP_MONEY
        self.cov: list[dict[str, np.ndarray]] = []
        self.action: list[dict[str, np.ndarray]] = []
        for k in range(W):
            bump = rng.random(n) < 0.5 * (k > 0)  # a birthday / anniversary since the last wave
            later = k > 0
            cov = {"age": p["age"] + bump * (k > 0), "years": p["years"] + bump * later,
                   "business_age": p["business_age"] + bump * later,
                   "employees": np.maximum(p["employees"] + later * rng.choice([-1, 0, 0, 0, 0, 0, 1], n), 0)}
            act = {}
            for var, probs in ACTION_PROBS.items():
                pr = np.full(n, probs["pre"]) if k == 0 else np.where(
                    self.participant, probs["participant"], probs["non_participant"])
                act[var] = rng.random(n) < pr
            revenue = np.exp(log_rev + rng.normal(0, 0.2, n))
            share = 1 / (1 + np.exp(-(share_logit + rng.normal(0, 0.1, n))))
            share = share * np.where(act["joint_purchasing"], JOINT_PURCHASE_COST_FACTOR, 1.0)
            cov["revenue"] = np.where(revenue < 1e6, np.round(revenue / 5e4) * 5e4,
                                      np.round(revenue / 1e5) * 1e5).clip(3e5)
            cov["input_costs"] = (np.round(cov["revenue"] * share / 5e4) * 5e4).clip(5e4)
            cov["skip_money"] = skip_money & (rng.random(n) < 0.8)
            chan = {}
            for c, pc in CHANNEL_PROBS.items():
                boost = BRAND_CHANNEL_BOOST.get(c, 0.0) * act["collective_brand"]
                extra = 0.27 * (_sector_is(p, sectors, "kuliner")) if c == "ojek_online" else 0.0
                chan[c] = rng.random(n) < np.clip(pc + boost + extra, 0, 0.95)
            cov["channels"] = chan
            cov["forum_meetings"] = np.where(later & self.participant, rng.integers(3, 13, n), 0)
            n_train = np.where(later & self.participant, rng.choice([1, 2, 3], n, p=[0.3, 0.35, 0.35]),
                               np.where(later & (rng.random(n) < 0.03), 1, 0))
            cov["n_trainings"] = n_train
            cov["training_draw"] = rng.random((n, 8))
            cov["forum_member"] = later & self.participant & (rng.random(n) < FORUM_MEMBER_PROB)
            cov["join_extra"] = {m: later & (rng.random(n) < 0.03) for m in MEMBERSHIP_PROBS}
            self.cov.append(cov)
            self.action.append(act)

    # -- answers for one person and wave ------------------------------------------------------
    def var_answer(self, q: Question, i: int, k: int, rng: np.random.Generator) -> str | None:
        var, form, p, cov = q.get("var"), self.form, self.people, self.cov[k]
        names = form.inst.choice_names(q.list_name) if q.list_name and q.base_type.startswith("select") else []
        sectors = list(SECTOR_PROBS["lokal"])
        if var == self.study.group.variable or q.get("role") == "group":
            return str(self.origin[i])
        if var == "sex":
            want = "perempuan" if p["female"][i] else "laki_laki"
            return want if want in names else names[int(not p["female"][i]) % len(names)]
        if var == "age":
            return str(int(cov["age"][i]))
        if var == "years_in_village":
            return str(int(cov["years"][i]))
        if var == "business_age":
            return str(int(cov["business_age"][i]))
        if var == "employees":
            return str(int(cov["employees"][i]))
        if var == "sector":
            s = sectors[p["sector"][i]]
            return s if s in names else names[-1]
        if var in self.action[k]:
            yes, no = form.yes_no(q)
            return yes if self.action[k][var][i] else no
        if var in ("revenue", "input_costs"):
            return None if cov["skip_money"][i] else str(int(cov[var][i]))
        if var == "forum_meetings":
            return str(int(cov["forum_meetings"][i]))
        if q.base_type == "select_multiple":
            none = form.none_choice(q)
            options = [c for c in names if c != none]
            if var == "membership":
                chosen = [c for c in options if (c in MEMBERSHIP_PROBS and (p[f"member_{c}"][i] or cov["join_extra"][c][i]))
                          or (c not in MEMBERSHIP_PROBS and cov["forum_member"][i])]
            elif var == "digital_channels":
                chosen = [c for c in options if cov["channels"].get(c, np.zeros(self.n, bool))[i]]
            elif var == "trainings":
                m = int(cov["n_trainings"][i])
                order = np.argsort(cov["training_draw"][i][: len(options)], kind="stable")[:m]
                chosen = [options[j] for j in sorted(order)]
            else:
                chosen = [c for c in options if rng.random() < 0.3]
            if not chosen:
                return none
            return " ".join(chosen)
        return _generic(q, names, rng)


def _sector_is(p: dict[str, np.ndarray], sectors: list[str], name: str) -> np.ndarray:
    return p["sector"] == (sectors.index(name) if name in sectors else -1)


def _generic(q: Question, names: list[str], rng: np.random.Generator) -> str | None:
    """An answer for a question the simulator knows nothing about (keeps the demo running)."""
    t = q.base_type
    if t == "select_one" and names:
        return str(rng.choice(names))
    if t == "select_multiple" and names:
        return str(rng.choice(names))
    if t in ("integer", "decimal"):
        return str(int(rng.integers(0, 10)))
    return None


# --------------------------------------------------------------------------------------------
# submissions


def _walk(form: _Form, rows: list[dict], parents: list[str], ok: bool, values: dict[str, str],
          target: dict[str, Any], answer, labels: dict[str, str], position: int | None = None) -> None:
    inst = form.inst
    for row in rows:
        q = inst.question(row["name"])
        here = ok and relevant(row.get("relevant"), values)
        t = q.base_type
        if t == "begin_group":
            _walk(form, row.get("rows", []), parents + [q.name], here, values, target, answer, labels, position)
            continue
        if t == "begin_repeat":
            if not here:
                continue
            count_expr = str(q.get("repeat_count") or "0")
            if re.fullmatch(r"\d+", count_expr.strip()):
                count = int(count_expr)
            elif re.fullmatch(REF, count_expr.strip()):
                count = int(values.get(count_expr.strip()[2:-1], "0") or 0)
            else:
                count = int(calculate(count_expr, values, form.inst, labels) or 0)
            ck = repeat_count_key(q)
            if ck:
                target[ck] = str(count)
            entries = []
            for pos in range(count):
                entry: dict[str, Any] = {}
                local = dict(values)
                _walk(form, row.get("rows", []), parents + [q.name], True, local, entry, answer, labels, pos)
                entries.append(entry)
            if entries:
                target[q.xpath] = entries
            continue
        if not here or t == "note":
            continue
        if t == "calculate":
            value = calculate(q.get("calculation"), values, form.inst, labels, position)
        else:
            value = answer(q, values)
        if value is None or value == "":
            continue
        values[q.name] = value
        target[q.xpath] = value


class _Wave:
    """Meta data of one wave's simulated KoboToolbox project."""

    def __init__(self, seed: int, k: int, wave: str):
        self.k, self.wave = k, wave
        self.uid = _kobo_uid("a", seed, "asset", wave)
        self.version = _kobo_uid("v", seed, "version", wave)
        self.old_version = _kobo_uid("v", seed, "version-old", wave) if k == 0 else None
        self.formhub = hashlib.md5(seeds.digest(seed, "formhub", wave)).hexdigest()
        self.start = FIRST_FIELDWORK + timedelta(days=WAVE_GAP_DAYS * k)
        days, d = [], self.start
        while len(days) < FIELDWORK_DAYS:
            if d.weekday() < 6:
                days.append(d)
            d += timedelta(days=1)
        self.days = days
        self.pulled_at = datetime.combine(days[-1] + timedelta(days=2), datetime.min.time()) + timedelta(hours=3)
        self.deployed = datetime.combine(self.start - timedelta(days=3), datetime.min.time()) + timedelta(hours=6, minutes=3)
        self.old_deployed = self.deployed - timedelta(days=7, hours=3)
        self.url = f"{SERVER}/api/v2/assets/{self.uid}/"
        self.data_url = f"{self.url}data/"


def _submissions(village: _Village, wv: _Wave) -> list[dict[str, Any]]:
    """One submission per interview of the wave, in sending order (faults are added later)."""
    k, seed = wv.k, village.seed
    rng = seeds.rng(seed, "visits", wv.wave)
    labels = {village.ids[i]: village.labels[i] for i in np.flatnonzero(village.on_roster[k])}
    people = list(rng.permutation(np.flatnonzero(village.interviewed[k])))
    per_day = int(np.ceil(len(people) / len(wv.days)))
    visits = []
    for j, i in enumerate(people):
        day = wv.days[min(j // per_day, len(wv.days) - 1)]
        slot = j % per_day
        start = datetime.combine(day, datetime.min.time()) + timedelta(
            hours=8, minutes=30 + 55 * slot + int(rng.integers(0, 25)), seconds=int(rng.integers(0, 60)),
            milliseconds=int(rng.integers(0, 1000)))
        refused = bool(village.refused[k][i])
        dur = timedelta(minutes=int(rng.integers(2, 5)) if refused else int(rng.integers(16, 38)),
                        seconds=int(rng.integers(0, 60)), milliseconds=int(rng.integers(0, 1000)))
        evening = rng.random() < 0.2  # offline: sent in the evening
        sent = (datetime.combine(day, datetime.min.time()) + timedelta(hours=19, minutes=int(rng.integers(0, 120)),
                                                                      seconds=int(rng.integers(0, 60)))
                if evening else start + dur + timedelta(seconds=int(rng.integers(2, 90))))
        visits.append({"i": int(i), "start": start, "end": start + dur, "sent": sent,
                       "enum": ENUMERATORS[int(village.people["rt"][i]) % len(ENUMERATORS)],
                       "refused": refused})
    visits.sort(key=lambda v: v["sent"])
    rng_ans = seeds.rng(seed, "generic", wv.wave)
    subs = []
    for n_visit, v in enumerate(visits):
        version = wv.old_version if (wv.old_version and n_visit < N_OLD_VERSION) else wv.version
        subs.append({"visit": v, "version": version,
                     "answers": _answers(village, wv, v, labels, rng_ans, extra=None)})
    return subs


def _answers(village: _Village, wv: _Wave, v: dict, labels: dict[str, str], rng: np.random.Generator,
             extra: dict | None) -> dict[str, Any]:
    """The question keys of one submission, in form order."""
    form, k, i = village.form, wv.k, v["i"]
    extra = extra or {}
    item_index = {item: j for j, item in enumerate(form.smap["item"])}
    tie_of = {spec["field"]: t for t, spec in form.ties.items()}
    weight_of = {spec["weight"]: t for t, spec in form.ties.items() if spec.get("weight")}
    alter_of = {spec["weight"]: spec["alter"] for t, spec in form.ties.items() if spec.get("weight")}
    roster_order = {rid: j for j, rid in enumerate(village.ids)}

    def answer(q: Question, values: dict[str, str]) -> str | None:
        t = q.base_type
        if t in ("start", "end"):
            return _iso_local(v[t])
        if t == "today":
            return v["start"].strftime("%Y-%m-%d")
        if form.gate is not None and q.name == form.gate.name:
            return form.gate_no if v["refused"] else form.gate_yes
        role = q.get("role")
        if role == "respondent":
            return village.ids[i]
        if q.name in extra.get("override", {}):
            return extra["override"][q.name]
        if q.name in item_index:
            j = item_index[q.name]
            if village.missing[k][i, j] or q.name in extra.get("drop", ()):
                return None
            level = int(village.likert[k][i, j])
            return form.likert_values[q.name][level - 1]
        if role == "tie":
            tt = tie_of[q.xpath]
            if tt not in village.tie_types:
                return None
            alters = [village.ids[j] for j in np.flatnonzero(village.ties[k][tt][i])]
            alters += extra.get("add_alters", {}).get(tt, [])
            alters = sorted(dict.fromkeys(alters), key=lambda r: roster_order.get(r, 10 ** 6))
            return " ".join(alters) if alters else None
        if role == "tie_weight":
            tt = weight_of[q.xpath]
            alter = values.get(alter_of[q.xpath].rsplit("/", 1)[-1], "")
            j = roster_order.get(alter)
            names = sorted(form.inst.choice_names(q.list_name), key=float)
            return names[village.frequency(k, tt, i, alter) % len(names)]
        if q.get("var") or role == "group":
            return village.var_answer(q, i, k, rng)
        names = form.inst.choice_names(q.list_name) if q.list_name and t.startswith("select") and not t.endswith("_from_file") else []
        return _generic(q, names, rng)

    values: dict[str, str] = {}
    target: dict[str, Any] = {}
    _walk(form, form.inst.survey, [], True, values, target, answer, labels)
    if extra.get("truncate_groups"):
        target = {key: val for key, val in target.items()
                  if key.split("/", 1)[0] not in extra["truncate_groups"]}
    inst_name = form.inst.form.get("instance_name")
    target["__meta_instance_name__"] = calculate(inst_name, values, form.inst, labels) if inst_name else None
    return target


def _record(village: _Village, wv: _Wave, sub: dict[str, Any], _id: int, instance: str,
            submitted: datetime) -> dict[str, Any]:
    """One API result row: meta fields around the answers, in KoboToolbox's key order."""
    answers = dict(sub["answers"])
    instance_name = answers.pop("__meta_instance_name__")
    rec: dict[str, Any] = {"_id": _id, "formhub/uuid": wv.formhub}
    rec.update(answers)
    rec["__version__"] = sub["version"]
    if instance_name is not None:
        rec["meta/instanceName"] = instance_name
    rec["meta/instanceID"] = f"uuid:{instance}"
    rec["meta/rootUuid"] = f"uuid:{instance}"
    rec.update({"_xform_id_string": wv.uid, "_uuid": instance, "_attachments": [],
                "_status": "submitted_via_web", "_geolocation": [None, None],
                "_submission_time": _iso_utc(submitted), "_tags": [], "_notes": [],
                "_validation_status": {}, "_submitted_by": sub["visit"]["enum"]})
    return rec


def _interrupted_first(village: _Village, wv: _Wave, s: dict, labels: dict[str, str]) -> dict:
    """Turn submission ``s`` into the correction of an interrupted first interview and return that first
    one (age off by 10, stops after the trust block); ``s`` becomes a return visit two days later."""
    form, seed = village.form, village.seed
    v = dict(s["visit"])
    first = {"visit": v, "version": wv.version}
    age_q = form.by_var.get("age")
    override = {age_q.name: str(int(village.cov[wv.k]["age"][v["i"]]) + 10)} if age_q else {}
    first_groups = [q.name for q in form.inst.questions if q.type == "begin_group" and "/" not in q.xpath]
    keep_upto = form.inst.question(form.smap["item"].iloc[0]).xpath.split("/", 1)[0]
    drop_groups = first_groups[first_groups.index(keep_upto) + 1:] if keep_upto in first_groups else []
    first["answers"] = _answers(village, wv, v, labels, seeds.rng(seed, "generic-first", wv.wave),
                                {"override": override, "truncate_groups": drop_groups})
    later = timedelta(days=2, minutes=47)
    s["visit"] = dict(v, start=v["start"] + later, end=v["end"] + later, sent=v["sent"] + later)
    s["answers"] = _answers(village, wv, s["visit"], labels, seeds.rng(seed, "generic-second", wv.wave), None)
    s["corrects"] = first
    return first


def _wave_results(village: _Village, wv: _Wave, next_id: int, faults: list[dict]) -> tuple[list[dict], int]:
    """The wave's API results in _id order, with this wave's injected faults."""
    form, k, seed, W = village.form, wv.k, village.seed, len(village.waves)
    subs = _submissions(village, wv)
    rng = seeds.rng(seed, "faults", wv.wave)
    labels = {village.ids[i]: village.labels[i] for i in np.flatnonzero(village.on_roster[k])}
    consenting = [s for s in subs if not s["visit"]["refused"]]
    tie_types = village.tie_types
    # fault: self-nomination, in a submission from the old form version (no constraint yet)
    if k == 0 and wv.old_version:
        s = next(s for s in subs[:N_OLD_VERSION] if not s["visit"]["refused"])
        tt = tie_types[1] if len(tie_types) > 1 else tie_types[0]
        rid = village.ids[s["visit"]["i"]]
        s["answers"] = _answers(village, wv, s["visit"], labels, seeds.rng(seed, "generic-fault", wv.wave),
                                {"add_alters": {tt: [rid]}})
        s["fault"] = {"kind": "self_nomination", "wave": wv.wave, "respondent": rid, "tie_type": tt,
                      "field": form.ties[tt]["field"], "alter": rid, "__version__": wv.old_version}
    # fault: a respondent submitted twice (an interrupted first interview, then the full one)
    extra_subs = []
    if k == 0:
        extra_subs.append(_interrupted_first(village, wv, consenting[len(consenting) // 3], labels))
    # fault: a nomination of someone no longer on the roster (a stale roster on a device)
    if k > 0:
        gone = [village.ids[j] for j in np.flatnonzero(village.on_roster[k - 1] & ~village.on_roster[k])]
        if gone:
            s = consenting[len(consenting) // 2]
            tt = tie_types[0]
            alter = gone[int(rng.integers(0, len(gone)))]
            s["answers"] = _answers(village, wv, s["visit"], labels, seeds.rng(seed, "generic-stale", wv.wave),
                                    {"add_alters": {tt: [alter]}})
            s["fault"] = {"kind": "nomination_not_on_roster", "wave": wv.wave,
                          "respondent": village.ids[s["visit"]["i"]], "tie_type": tt,
                          "field": form.ties[tt]["field"], "alter": alter}
    all_subs = subs + extra_subs
    all_subs.sort(key=lambda s: s["visit"]["sent"])
    # fault: an exact duplicate upload (same instanceID, new _id) in the last wave
    dup_of = consenting[(2 * len(consenting)) // 3] if k == W - 1 else None
    rows: list[tuple[datetime, dict, str]] = []
    for n_sub, s in enumerate(all_subs):
        inst_uuid = _uuid(seed, "instance", wv.wave, n_sub)
        rows.append((s["visit"]["sent"], s, inst_uuid))
        if s is dup_of:
            rows.append((s["visit"]["sent"] + timedelta(days=3, hours=2, minutes=11), s, inst_uuid))
    rows.sort(key=lambda r: r[0])
    results = []
    seen_dup = []
    for sent, s, inst_uuid in rows:
        next_id += int(rng.integers(1, 40))
        rec = _record(village, wv, s, next_id, inst_uuid, sent)
        results.append(rec)
        if "fault" in s:
            faults.append({**s["fault"], "_id": next_id})
        if "corrects" in s:
            first_id = next(r["_id"] for r in results if r["meta/instanceID"] != rec["meta/instanceID"]
                            and r.get(form.respondent.xpath) == rec.get(form.respondent.xpath))
            faults.append({"kind": "resubmission", "wave": wv.wave,
                           "respondent": village.ids[s["visit"]["i"]], "_ids": [first_id, next_id],
                           "keep": next_id,
                           "note": "interrupted first interview (age off by 10, stops after the trust block); "
                                   "the later submission is the correction"})
        if s is dup_of:
            seen_dup.append(next_id)
    if dup_of is not None:
        faults.append({"kind": "duplicate_upload", "wave": wv.wave,
                       "respondent": village.ids[dup_of["visit"]["i"]],
                       "instance_id": next(r["meta/instanceID"] for r in results if r["_id"] == seen_dup[0]),
                       "_ids": seen_dup, "keep": seen_dup[-1]})
    return results, next_id


# --------------------------------------------------------------------------------------------
# files


def _roster_csv(village: _Village, k: int) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["name", "label"])
    for i in np.flatnonzero(village.on_roster[k]):
        w.writerow([village.ids[i], village.labels[i]])
    return buf.getvalue().encode("utf-8")


def _asset(study: Study, form: _Form, wv: _Wave, content: dict, n_results: int, roster: bytes) -> dict:
    inst = form.inst
    seed = int(study.source.seed)
    created = datetime.combine(wv.start - timedelta(days=21), datetime.min.time()) + timedelta(hours=2, minutes=14)
    deployed = wv.deployed
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    file_uid = _kobo_uid("af", seed, "file", wv.wave)
    versions = [{"uid": wv.version, "url": f"{wv.url}versions/{wv.version}/",
                 "content_hash": hashlib.sha1(_dumps(content)).hexdigest(),
                 "date_deployed": deployed.strftime(fmt), "date_modified": deployed.strftime(fmt)}]
    if wv.old_version:
        old_at = wv.old_deployed
        versions.append({"uid": wv.old_version, "url": f"{wv.url}versions/{wv.old_version}/",
                         "content_hash": hashlib.sha1(_dumps(_old_content(form, content))).hexdigest(),
                         "date_deployed": old_at.strftime(fmt), "date_modified": old_at.strftime(fmt)})
    title = inst.form["title"][inst.default_language]
    labels = [r["label"][0] for r in content["survey"] if isinstance(r.get("label"), list)][:5]
    columns = sorted({c for r in content["survey"] for c in r if not c.startswith("$")})
    return {
        "url": wv.url,
        "owner": f"{SERVER}/api/v2/users/{OWNER}/",
        "owner__username": OWNER,
        "parent": None,
        "settings": {"sector": {"label": "Economic/Social Development", "value": "Economic/Social Development"},
                     "country": [{"label": "Indonesia", "value": "IDN"}],
                     "description": f"{study.title} — {study.wave_label(wv.wave, 'id')}",
                     "organization": "Tim PKM", "country_codes": ["IDN"]},
        "asset_type": "survey",
        "files": [{"uid": file_uid, "url": f"{wv.url}files/{file_uid}/", "asset": wv.url,
                   "user": f"{SERVER}/api/v2/users/{OWNER}/", "user__username": OWNER,
                   "file_type": "form_media", "description": "default",
                   "date_created": (deployed - timedelta(hours=1)).strftime(fmt),
                   "content": f"{wv.url}files/{file_uid}/content/",
                   "metadata": {"hash": "md5:" + hashlib.md5(roster).hexdigest(),
                                "filename": form.roster_file, "mimetype": "text/csv"}}],
        "summary": {"geo": False, "labels": labels, "columns": columns, "languages": content["translations"],
                    "row_count": len(content["survey"]), "name_quality": {"ok": len(content["survey"]), "bad": 0,
                                                                          "good": 0, "total": len(content["survey"])},
                    "default_translation": content["translations"][0], "naming_conflicts": []},
        "date_created": created.strftime(fmt),
        "date_modified": deployed.strftime(fmt),
        "date_deployed": deployed.strftime(fmt),
        "version_id": wv.version,
        "version__content_hash": versions[0]["content_hash"],
        "version_count": len(versions),
        "has_deployment": True,
        "deployed_version_id": wv.version,
        "deployed_versions": {"count": len(versions), "next": None, "previous": None, "results": versions},
        "deployment__links": {"url": f"https://ee.kobotoolbox.org/{_kobo_uid('', seed, 'enketo', wv.wave)[:8]}",
                              "single_url": f"https://ee.kobotoolbox.org/single/{_kobo_uid('', seed, 'enketo', wv.wave)[:8]}"},
        "deployment__active": True,
        "deployment__submission_count": n_results,
        "deployment_status": "deployed",
        "content": content,
        "uid": wv.uid,
        "kind": "asset",
        "xls_link": f"{wv.url}xls/",
        "xform_link": f"{wv.url}xform/",
        "name": f"{title} — {study.wave_label(wv.wave, 'id')}",
        "data": wv.data_url,
        "status": "private",
    }


def _old_content(form: _Form, content: dict) -> dict:
    """The older form version: the name generators had no self-nomination constraint yet."""
    fields = {spec["field"] for spec in form.ties.values()}
    old = json.loads(json.dumps(content))
    for row in old["survey"]:
        if row.get("$xpath") in fields:
            row.pop("constraint", None)
            row.pop("constraint_message", None)
    return old


def _pages(wv: _Wave, results: list[dict]) -> list[dict]:
    count = len(results)
    pages = []
    base = f"{wv.data_url}?format=json&limit={PAGE_SIZE}"
    for start in range(0, max(count, 1), PAGE_SIZE):
        nxt = f"{base}&start={start + PAGE_SIZE}" if start + PAGE_SIZE < count else None
        if start == 0:
            prev = None
        elif start - PAGE_SIZE <= 0:
            prev = base
        else:
            prev = f"{base}&start={start - PAGE_SIZE}"
        pages.append({"count": count, "next": nxt, "previous": prev, "results": results[start:start + PAGE_SIZE]})
    return pages


def _ei(ties: np.ndarray, resp: np.ndarray, origin: np.ndarray) -> dict[str, Any]:
    idx = np.flatnonzero(resp)
    sub = ties[np.ix_(idx, idx)]
    og = origin[idx]
    same = og[:, None] == og[None, :]
    internal, external = int((sub & same).sum()), int((sub & ~same).sum())
    n = len(idx)
    other_share = np.array([(og != og[a]).sum() / (n - 1) for a in range(n)])
    exp_ext = float((sub.sum(axis=1) * other_share).sum())
    total = internal + external
    return {"internal": internal, "external": external,
            "ei": rounded((external - internal) / total) if total else None,  # Krackhardt–Stern, as analysis.network.ei
            "within_share": rounded(internal / total) if total else None,
            "within_share_random": rounded(1 - exp_ext / total) if total else None,
            "mean_outdegree": rounded(total / n) if n else None}



def _village_files(study: Study, form: _Form, village: "_Village", content: dict, files: dict[str, bytes],
                   faults: list[dict], prefix: str, next_id: int) -> tuple[dict[str, Any], int]:
    """Add one village's KoboToolbox-shaped files (every wave) to ``files`` under ``prefix``."""
    seed = village.seed
    wave_meta: dict[str, Any] = {}
    for k, wave in enumerate(village.waves):
        wv = _Wave(seed, k, wave)
        results, next_id = _wave_results(village, wv, next_id, faults)
        next_id += 5000 + int(seeds.rng(seed, "gap", k).integers(0, 3000))
        roster = _roster_csv(village, k)
        files[f"{prefix}{wave}/asset.json"] = _dumps(_asset(study, form, wv, content, len(results), roster))
        if wv.old_version:
            old = _old_content(form, content)
            files[f"{prefix}{wave}/versions/{wv.old_version}.json"] = _dumps({
                "uid": wv.old_version, "url": f"{wv.url}versions/{wv.old_version}/",
                "content_hash": hashlib.sha1(_dumps(old)).hexdigest(),
                "date_deployed": wv.old_deployed.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "date_modified": wv.old_deployed.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "content": old})
        files[f"{prefix}{wave}/media/{form.roster_file}"] = roster
        for n_page, page in enumerate(_pages(wv, results), start=1):
            files[f"{prefix}{wave}/data/page-{n_page:06d}.json"] = _dumps(page)
        wave_meta[wave] = {"asset_uid": wv.uid, "deployed_version_id": wv.version,
                           "old_version_id": wv.old_version, "pulled_at": wv.pulled_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                           "count": len(results), "id_min": min((r["_id"] for r in results), default=None),
                           "id_max": max((r["_id"] for r in results), default=None),
                           "fieldwork": [wv.days[0].isoformat(), wv.days[-1].isoformat()]}
    return wave_meta, next_id

def simulate(study: Study, instrument: Instrument) -> dict[str, bytes]:
    """Simulate the demo study: relative path (under ``data/raw/<study>/``) → file bytes.

    Pure and deterministic: the same study settings and instrument give the same bytes. The files
    are what ``make pull`` saves for a KoboToolbox study (see ``data/raw/README.md``) plus
    ``pseudonym.key`` and ``demo_truth.json``; :func:`write_demo` adds ``manifest.json``.
    """
    if study.source.kind != "demo":
        raise SinergiError(f"study {study.id}: source kind is {study.source.kind!r}, not 'demo'")
    form = _Form(instrument)
    missing_roles = [r for r in ("tie",) if not instrument.by_role(r)]
    if missing_roles:
        raise SinergiError(f"{instrument.source}: the demo needs name generators (role: tie)")
    village = _Village(study, form)
    seed = village.seed
    content = asset_content(instrument)
    files: dict[str, bytes] = {}
    faults: list[dict] = []
    next_id = 48_000_000 + int.from_bytes(seeds.digest(seed, "first-id")[:3], "big") % 900_000
    wave_meta, next_id = _village_files(study, form, village, content, files, faults, "", next_id)
    comparison = []
    for c in range(1, int(getattr(study.source, "comparison_villages", 0)) + 1):
        # a comparison village: the same simulator, its own seed and roster ids, nobody in the program
        cv = _Village(study, form, seed=comparison_seed(seed, c), id_prefix=f"k{c}u", share_participants=0.0)
        prefix = f"sites/{comparison_slug(c)}/"
        files[f"{prefix}site.json"] = _dumps({"site": comparison_name(c), "arm": "comparison"})
        meta, next_id = _village_files(study, form, cv, content, files, [], prefix, next_id)
        comparison.append({"site": comparison_name(c), "folder": prefix.rstrip("/"), "seed": cv.seed,
                           "waves": meta,
                           "respondents": {w: int(cv.consented[k].sum()) for k, w in enumerate(cv.waves)}})
    files["pseudonym.key"] = (hashlib.sha256(f"sinergi-demo-pseudonym-key:{seed}".encode()).hexdigest() + "\n").encode()
    truth = _truth(study, form, village, wave_meta, faults)
    if comparison:
        truth["comparison_villages"] = comparison
        truth["comparison_note"] = ("comparison villages: the same simulator with their own seed, no program "
                                    "participants (every latent change is the non-participant one), so the "
                                    "planted difference-in-differences is the program village's share of "
                                    "participants times the participant effect")
    files["demo_truth.json"] = _dumps(truth)
    return dict(sorted(files.items()))


def _truth_network(village: _Village) -> dict[str, Any]:
    """The truth file's ``network``: the tie model's settings, new-tie probabilities, realised E-I and
    within-group shares per wave and tie type, and the Jaccard similarity of consecutive waves."""
    waves, W = village.waves, len(village.waves)
    net: dict[str, Any] = {
        "model": {"mean_outdegree_first_wave": MEAN_OUTDEGREE, "log_odds_terms": TIE_TERMS,
                  "keep_prob": KEEP_PROB, "new_tie_factor": NEW_TIE_FACTOR, "program_bonus": PROGRAM_BONUS,
                  "program_bonus_same_origin_share": PROGRAM_BONUS_SAME,
                  "frequency_probs": FREQ_PROBS, "intercepts": village.net_info["intercept"]},
        "p_new_tie": {"participant_pairs_cross_origin": village.net_info["p_new_cross_participant_pairs"],
                      "other_pairs": village.net_info["p_new_other_pairs"]},
        "realised": {}, "jaccard": {},
    }
    for k, w in enumerate(waves):
        net["realised"][w] = {t: _ei(village.ties[k][t], village.consented[k], village.origin)
                              for t in village.tie_types}
    for k in range(1, W):
        both = village.consented[k - 1] & village.consented[k]
        pair = both[:, None] & both[None, :]
        key = f"{waves[k - 1]}->{waves[k]}"
        net["jaccard"][key] = {}
        for t in village.tie_types:
            a, b = village.ties[k - 1][t] & pair, village.ties[k][t] & pair
            net["jaccard"][key][t] = rounded((a & b).sum() / max((a | b).sum(), 1))
    net["note"] = ("realised figures are over ties whose ego and alter both gave consent in the wave "
                   "(injected faults excluded); E-I = (external - internal) / (external + internal)")
    return net


def _truth_economics(village: _Village) -> dict[str, Any]:
    """The truth file's ``economics``: collective-action settings and the realised cost ratios."""
    waves = village.waves
    econ: dict[str, Any] = {"action_probs": ACTION_PROBS, "joint_purchase_cost_factor": JOINT_PURCHASE_COST_FACTOR,
                            "revenue_median": REVENUE_MEDIAN, "input_share_by_sector": INPUT_SHARE,
                            "realised_cost_ratio": {}}
    for k, w in enumerate(waves):
        c, a = village.cov[k], village.action[k]
        ok = village.consented[k] & ~c["skip_money"]
        ratio = c["input_costs"] / c["revenue"]
        jp = a["joint_purchasing"]
        econ["realised_cost_ratio"][w] = {"joint_purchasers": rounded(ratio[ok & jp].mean()) if (ok & jp).any() else None,
                                          "others": rounded(ratio[ok & ~jp].mean()) if (ok & ~jp).any() else None}
    return econ


def _truth(study: Study, form: _Form, village: _Village, wave_meta: dict, faults: list[dict]) -> dict:
    src = study.source
    W = len(village.waves)
    ids = np.array(village.ids)
    waves = village.waves
    mc = truth_expected_change(form, village.seed, float(src.share_migrant))
    pop: dict[str, Any] = {
        "roster_size": {w: int(village.on_roster[k].sum()) for k, w in enumerate(waves)},
        "respondents": {w: int(village.consented[k].sum()) for k, w in enumerate(waves)},
        "share_lokal": {w: rounded((village.origin[village.consented[k]] == "lokal").mean()) for k, w in enumerate(waves)},
        "refused": {w: ids[village.refused[k]].tolist() for k, w in enumerate(waves)},
        "newcomers": {w: ids[village.joined == k].tolist() for k, w in enumerate(waves) if k > 0},
        "left_roster": {w: ids[village.left_at == k].tolist() for k, w in enumerate(waves) if k > 0},
        "not_interviewed": {w: ids[village.on_roster[k] & ~village.interviewed[k]].tolist()
                            for k, w in enumerate(waves) if k > 0},
    }
    if W > 1:
        base = village.consented[0]
        lost = base & ~village.consented[W - 1]
        pop["attrition"] = {"from": waves[0], "to": waves[-1], "ids": ids[lost].tolist(),
                            "share": rounded(lost.sum() / base.sum())}
    # measured missing share of Likert answers among consenting respondents
    miss = {w: rounded(village.missing[k][village.consented[k]].mean()) for k, w in enumerate(waves)}
    net = _truth_network(village)
    econ = _truth_economics(village)
    return {
        "study": study.id,
        "seed": village.seed,
        "settings": {"n_respondents": int(src.n_respondents), "share_migrant": float(src.share_migrant),
                     "waves": waves, "tie_types": village.tie_types,
                     "shares": {"newcomers": SHARE_NEWCOMERS, "left_roster": SHARE_LEFT,
                                "not_interviewed": SHARE_NONRESPONSE, "refused": SHARE_REFUSE,
                                "participants": SHARE_PARTICIPANTS}},
        "note": ("Planted truth of the simulated demo study. The analysis never reads this file. "
                 "Scores are the mean of a scale's items after reverse-coding (min + max - answer), "
                 "per subscale ('<dimension>_<subscale>') and per dimension (all its items), as in "
                 "pipeline/analysis/scales.py. pseudonym.key of the demo is derived from the seed; real studies "
                 "get a random key."),
        "waves": wave_meta,
        "population": pop,
        "program": {"participants": ids[village.participant].tolist(),
                    "participants_respondents_last_wave": int((village.participant & village.consented[-1]).sum()),
                    "respondents_last_wave": int(village.consented[-1].sum())},
        "latent": {"subscales": form.subscales, "rho_within_dimension": RHO_WITHIN,
                   "rho_across_dimensions": RHO_ACROSS, "loading": LOADING, "loading_reverse": LOADING_REVERSE,
                   "thresholds": list(THRESHOLDS), "change_sd": CHANGE_SD,
                   "baseline_mean": BASE_MEAN, "member_bonus": MEMBER_BONUS,
                   "effect": {who: {s: planted_effect(s, who) for s in form.subscales} for who in EFFECT}},
        "expected_change": mc["change"],
        "expected_baseline": mc["baseline"],
        "monte_carlo": {"draws": MC_DRAWS, "what": "later wave minus first wave, same people, no missing answers"},
        "missing": {"p_missing": P_MISSING, "p_missing_skippers": P_MISSING_HIGH, "share_skippers": SHARE_SKIPPERS,
                    "realised_share": miss},
        "network": net,
        "economics": econ,
        "faults": faults,
    }


# --------------------------------------------------------------------------------------------
# writing


def _manifest(study: Study, files: dict[str, bytes]) -> dict[str, Any]:
    truth = json.loads(files["demo_truth.json"])
    waves = {}
    first = next(iter(truth["waves"]))
    for w, meta in truth["waves"].items():
        waves[w] = {"asset_uid": meta["asset_uid"], "server": SERVER, "pulled_at": meta["pulled_at"],
                    "count": meta["count"], "id_min": meta["id_min"], "id_max": meta["id_max"],
                    "files": {p: hashlib.sha256(b).hexdigest() for p, b in files.items()
                              if p.startswith(f"{w}/") or re.match(rf"sites/[^/]+/{re.escape(w)}/", p)
                              or (w == first and re.fullmatch(r"sites/[^/]+/site\.json", p))}}
    last = max(m["pulled_at"] for m in truth["waves"].values())
    return {"study": study.id, "source": "demo", "written_at": last,
            "seed": truth["seed"], "waves": waves}


def write_demo(study: Study, instrument: Instrument, raw_dir: str | Path) -> dict[str, Any]:
    """Write the simulated raw folder (``raw_dir`` = ``data/raw/<study>``) and return its manifest.

    Files are written atomically, ``manifest.json`` last. Raw data is never modified: if the folder
    already holds exactly these files nothing is written; if it holds anything else a
    :class:`SinergiError` asks to delete the folder.
    """
    raw_dir = Path(raw_dir)
    files = simulate(study, instrument)
    manifest = _manifest(study, files)
    files["manifest.json"] = _dumps(manifest)
    existing = {p.relative_to(raw_dir).as_posix() for p in raw_dir.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(raw_dir).parts)} \
        if raw_dir.is_dir() else set()
    differs = sorted(p for p in existing if p not in files or (raw_dir / p).read_bytes() != files[p])
    if differs:
        raise SinergiError(f"{raw_dir} already holds demo data made with other settings ({differs[0]} differs); "
                           "delete that folder to regenerate")
    for path, data in files.items():
        if path != "manifest.json" and path not in existing:
            write_bytes(raw_dir / path, data)
    if "manifest.json" not in existing:
        write_bytes(raw_dir / "manifest.json", files["manifest.json"])
    return manifest
