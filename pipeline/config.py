"""Study configuration: ``study.yaml`` → a validated :class:`Study`.

A study names its source, its ordered waves, the grouping variable and the analysis settings.
Unknown keys, wrong types and missing files are reported in one line naming the key, the value
and what is allowed. Relative paths are read from the folder that holds the study file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StrictBool, ValidationError, field_validator, model_validator

from .errors import SinergiError
from .io import STUDY_ID_RE, read_text, read_yaml, sha256_file, study_id
from .parallel import scheduler_problem
from .shared import store_problem
from .simulation.sites import comparison_name

ROOT = Path(__file__).resolve().parent.parent
ID_RE = STUDY_ID_RE
#: the name generators of the sinergi instrument: an instrument study's tie types by default
INSTRUMENT_TIE_TYPES = ("info", "help", "collab")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Label(_Model):
    """A text in both report languages; neither may be empty."""

    id: str
    en: str

    @field_validator("id", "en")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("is empty; write the text in both languages (id and en)")
        return v


class DemoSource(_Model):
    kind: Literal["demo"]
    seed: int = 20261123
    n_respondents: int = Field(140, ge=20, le=5000)
    share_migrant: float = Field(0.4, gt=0, lt=1)
    #: comparison villages simulated beside the program village (opt-in; default 0 keeps the
    #: shipped demo data as it is). Each is the same simulator with its own seed and no program.
    comparison_villages: int = Field(0, ge=0, le=9)


class TablesSource(_Model):
    kind: Literal["tables"]
    path: Path


class KoboSource(_Model):
    kind: Literal["kobo"]
    server: str = "https://kf.kobotoolbox.org"
    token_env: str = "KOBO_TOKEN"
    #: longest time one request may take, retries and waits included, in seconds
    max_wait: float = Field(300.0, ge=10, le=86_400)

    @field_validator("server")
    @classmethod
    def _https(cls, v: str) -> str:
        if not re.match(r"^https?://[^/\s]+", v):
            raise ValueError("must be a URL such as https://kf.kobotoolbox.org or https://eu.kobotoolbox.org")
        return v.rstrip("/")


class KoboFilesSource(_Model):
    kind: Literal["kobo_files"]


def _zone_name(v: str) -> str:
    """An IANA time zone name the standard library knows (``Asia/Jakarta``)."""
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("is not a time zone name; write Asia/Jakarta (WIB), Asia/Makassar (WITA) or "
                         "Asia/Jayapura (WIT)") from None
    return v


class GoogleFormsSource(_Model):
    """Each wave's Google Forms responses file (``waves[].file``) read with its form's contract
    (``waves[].contract``) and roster (``waves[].roster``)."""

    kind: Literal["google_forms"]
    #: the form's time zone: a responses file's times are local times of it (unless written with GMT+7)
    timezone: str = "Asia/Jakarta"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        return _zone_name(v)


class OdkSource(_Model):
    """An ODK Central server's project; each wave is a form of it (``waves[].form_id``)."""

    kind: Literal["odk"]
    server: str
    project_id: int = Field(ge=1)
    username_env: str = "ODK_CENTRAL_USERNAME"
    password_env: str = "ODK_CENTRAL_PASSWORD"
    #: longest time one request may take, retries and waits included, in seconds
    max_wait: float = Field(300.0, ge=10, le=86_400)

    @field_validator("server")
    @classmethod
    def _https(cls, v: str) -> str:
        if not re.match(r"^https?://[^/\s]+", v):
            raise ValueError("must be the Central server's address, such as https://central.example.org")
        return v.rstrip("/")


Source = Annotated[Union[DemoSource, TablesSource, KoboSource, KoboFilesSource, GoogleFormsSource, OdkSource],
                   Field(discriminator="kind")]
#: every source kind, in the order the README lists them
SOURCE_KINDS = ("demo", "tables", "kobo", "kobo_files", "google_forms", "odk")


class Wave(_Model):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$")]
    label: Label | str | None = None
    asset_uid: str | None = None
    #: ODK Central: the wave's form id in the project
    form_id: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$")] | None = None
    file: Path | None = None
    #: Google Forms: the form's contract(s) (``google_form.json``), oldest version first
    contract: Path | list[Path] | None = None
    roster: Path | None = None

    @property
    def contracts(self) -> list[Path]:
        """``contract`` as a list (empty when not given)."""
        c = self.contract
        return [] if c is None else (list(c) if isinstance(c, list) else [c])


class GroupLevel(_Model):
    value: str
    label: Label | str | None = None


class Group(_Model):
    """The groups compared: ``variable`` (an instrument study's select-one ``var``; a tables
    study's ``respondents.csv`` column, default its ``group`` column), the ordered ``levels`` and
    the ``reference`` level of the models (default: the first level)."""

    variable: str = "origin"
    levels: list[GroupLevel] = Field(
        default_factory=lambda: [GroupLevel(value="lokal", label=Label(id="Lokal", en="Local")),
                                 GroupLevel(value="pendatang", label=Label(id="Pendatang", en="Migrant"))],
        min_length=2)
    #: the level the others are compared with (mixed models' ``group[X]`` terms); default levels[0]
    reference: str | None = None


class Analysis(_Model):
    seed: int = 20261123
    permutations: int = Field(5000, ge=99, le=1_000_000)
    alpha: float = Field(0.05, gt=0, lt=0.5)
    min_share: float = Field(2 / 3, gt=0, le=1)
    #: the smallest change the study treats as meaningful, in SD units of the paired differences
    #: (|d_z|): a significant change below it is reported as significant but negligible
    min_effect: float = Field(0.1, gt=0, le=2)
    #: where per-site work runs (pipeline/parallel.py): auto, serial, processes, local or a Dask
    #: scheduler address; $SINERGI_SCHEDULER overrides it
    scheduler: str = "auto"
    #: where the workers of a cluster read the partitioned tables, when they cannot see data/processed/:
    #: a folder every worker mounts or an fsspec URL (pipeline/shared.py); $SINERGI_SHARED_DATA overrides it
    shared_data: str | None = None

    @field_validator("scheduler")
    @classmethod
    def _scheduler(cls, v: str) -> str:
        problem = scheduler_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("shared_data")
    @classmethod
    def _shared_data(cls, v: str | None) -> str | None:
        problem = None if v is None else store_problem(v)
        if problem:
            raise ValueError(problem)
        return v


class Monitor(_Model):
    """The fieldwork monitor's target and check thresholds (``make monitor``)."""

    #: share of each wave's roster to interview
    target: float = Field(0.8, gt=0, le=1)
    #: an interview shorter than this (``end − start``) is flagged
    min_minutes: float = Field(10.0, ge=0, le=600)
    #: a Likert block (a scale dimension) answered with one value on at least this many items is flagged
    straightline_min_items: int = Field(5, ge=2, le=100)
    #: naming nobody in a name generator is flagged when the wave's median respondent names at least this many
    nobody_median: float = Field(3.0, gt=0, le=100)


class Designs(_Model):
    """Settings of the evaluation designs (``did``, ``invariance``, ``coverage``)."""

    #: randomization inference over villages: assignments drawn when there are more than this
    #: many (otherwise every assignment is enumerated)
    ri_draws: int = Field(2000, ge=99, le=100_000)
    #: roster coverage below this share of a site × wave gets a warning next to its network measures
    min_coverage: float = Field(0.8, gt=0, le=1)


class Plan(_Model):
    """Design of the next program for ``sinergi plan`` (power by simulation)."""

    villages_program: int = Field(3, ge=1, le=50)
    villages_comparison: int = Field(4, ge=0, le=50)
    #: respondents per village at baseline: one number or a list (the power curve)
    respondents: int | list[int] = Field(default_factory=lambda: [40, 80, 140, 200])
    share_migrant: float = Field(0.4, gt=0, lt=1)
    participation: float = Field(0.5, gt=0, le=1)
    attrition: float = Field(0.1, ge=0, lt=1)
    response_rate: float = Field(0.9, gt=0, le=1)
    #: expected program effect on a scale score, in SD units of the baseline score
    effect_scale: float = Field(0.3, ge=-3, le=3)
    #: added probability of a new tie between two participants of different origin
    effect_cross_ties: float = Field(0.05, ge=0, le=1)
    sims: int = Field(200, ge=20, le=20_000)

    @field_validator("respondents")
    @classmethod
    def _sizes(cls, v):
        sizes = v if isinstance(v, list) else [v]
        if not sizes or any(n < 10 or n > 2000 for n in sizes):
            raise ValueError("respondents per village must be between 10 and 2000")
        return v


class Privacy(_Model):
    """What may leave ``data/raw/``.

    ``show_names``: label sociogram nodes (with pseudonyms; default false). ``keep_columns``:
    columns of a tables study's ``respondents.csv`` that look like names, phone numbers, e-mail
    addresses or free text and may still go into the processed tables and the report's exports
    (default none: such columns stay in raw and a quality row says so).
    """

    show_names: StrictBool = False
    keep_columns: list[str] = Field(default_factory=list)

    @field_validator("keep_columns")
    @classmethod
    def _columns(cls, v: list[str]) -> list[str]:
        for name in v:
            if not name.strip():
                raise ValueError("an empty column name; list the respondents.csv column names to keep")
            if name in ("respondent_id", "wave", "group", "site"):
                raise ValueError(f"{name!r} is always read (only list extra covariate columns)")
        dup = sorted({c for c in v if v.count(c) > 1})
        if dup:
            raise ValueError(f"{dup[0]!r} is listed twice")
        return v


class Stage(_Model):
    """One stage (activity) of the program, for the article's *Metode Pelaksanaan*: ``name``
    (text or ``{id: …, en: …}``), optional ``date`` (as it should be printed, e.g. "Juli 2026",
    or a date) and ``description`` (text or ``{id: …, en: …}``)."""

    name: Label | str
    date: str | None = None
    description: Label | str | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _date_text(cls, v: Any) -> Any:
        if hasattr(v, "isoformat") and not isinstance(v, str):  # YAML reads 2026-07-01 as a date
            return v.isoformat()
        if v is not None and not isinstance(v, str):
            raise ValueError(f"must be a text such as \"Juli 2026\" or a date such as 2026-07-01, not {v!r}")
        return v

    @field_validator("name", "date", "description")
    @classmethod
    def _not_blank(cls, v: Any) -> Any:
        if isinstance(v, str) and not v.strip():
            raise ValueError("is empty; write the text, or leave the key out")
        return v


class ReportInfo(_Model):
    """Who made the report: printed on the village handout (``handout.html``) and the report.

    ``program``: the community program's name (text, or ``{id: …, en: …}``); ``team``: the team
    that ran it (e.g. "Tim PKM Universitas …"); ``institution``: the team's institution (e.g.
    "LPPM Universitas …", text or ``{id: …, en: …}``); ``year``: the year the report is for (e.g.
    the funding year; default: the year the raw data was written). All optional; the Word
    report's cover and the handout leave out what is not given.
    ``pdf``: also print ``report.pdf`` and the handouts' PDFs with headless Chromium (default
    false, true in the demo study; ≈ 6 s; skipped, with a note, when Chromium is not installed).
    ``network_files``: write exports/network/ (GraphML, GEXF, RSiena); default: for a study of up
    to 6 villages, not for a larger district (true writes them for every village).
    ``stages``: the program's stages (:class:`Stage`, in order), listed in the article draft's
    *Metode Pelaksanaan* (without them the article marks the place for the team).
    """

    program: Label | str | None = None
    team: str | None = None
    institution: Label | str | None = None
    year: Annotated[int, Field(ge=1900, le=2999)] | None = None
    #: also print report.pdf and the handouts' PDFs with headless Chromium when it is installed
    pdf: StrictBool = False
    #: GraphML, GEXF and RSiena files in exports/network/: default (None) for up to 6 villages;
    #: a district of more villages gets them only with true (1,600 graphs, 1.3 GB at 200 villages)
    network_files: StrictBool | None = None
    #: the program's stages, in order (the article's Metode Pelaksanaan)
    stages: list[Stage] | None = None

    @field_validator("stages")
    @classmethod
    def _some_stages(cls, v: Any) -> Any:
        if v is not None and not v:
            raise ValueError("is an empty list; list the program's stages (name, date, description) or leave "
                             "the key out")
        return v

    @field_validator("program", "team", "institution")
    @classmethod
    def _not_blank(cls, v: Any) -> Any:
        if isinstance(v, str) and not v.strip():
            raise ValueError("is empty; write the name, or leave the key out")
        if isinstance(v, str) and len(v) > 160:
            raise ValueError("is longer than 160 characters; shorten it (it is printed on a one-page handout)")
        return v


class Study(_Model):
    """A validated study.yaml."""

    id: Annotated[str, Field(pattern=ID_RE)]
    title: str
    language: Literal["id", "en"] = "id"
    site: str = "desa"
    instrument: Path = Path("instruments/sinergi.yaml")
    source: Source
    waves: list[Wave] = Field(min_length=1)
    group: Group = Field(default_factory=Group)
    #: tie types to analyse: name generators (instrument studies; default all three of the
    #: sinergi instrument) or ties.csv's tie_type values (tables studies; default none); [] = no networks
    tie_types: list[str] = Field(default_factory=lambda: list(INSTRUMENT_TIE_TYPES))
    analysis: Analysis = Field(default_factory=Analysis)
    #: site → ``program`` or ``comparison``: which villages the program worked in. Needed for the
    #: difference-in-differences (``did``) outputs; the demo sets it itself with
    #: ``source.comparison_villages``.
    arms: dict[str, Literal["program", "comparison"]] | None = None
    #: designs: settings of the evaluation-design outputs (difference-in-differences, coverage).
    designs: "Designs" = Field(default_factory=lambda: Designs())
    #: the next program's design for ``sinergi plan`` (power by simulation)
    plan: "Plan" = Field(default_factory=lambda: Plan())
    privacy: Privacy = Field(default_factory=Privacy)
    monitor: Monitor = Field(default_factory=Monitor)
    report: ReportInfo = Field(default_factory=ReportInfo)
    #: which KoboToolbox validation statuses count: every submission except those marked
    #: Not Approved (default), or only those marked Approved
    validation: Literal["exclude_not_approved", "approved_only"] = "exclude_not_approved"
    #: folder holding the study file; relative paths are resolved against it (not a YAML key).
    base: Path = Field(default=Path("."), exclude=True)
    _file: Path = PrivateAttr(default=Path("study.yaml"))

    @property
    def file(self) -> Path:
        """The study file this study was read from (for messages)."""
        return self._file

    @model_validator(mode="before")
    @classmethod
    def _default_tie_types(cls, data: Any) -> Any:
        """A tables study names its tie types itself: without ``tie_types`` it has none (not the
        sinergi instrument's ``info, help, collab``)."""
        if isinstance(data, dict) and "tie_types" not in data:
            source = data.get("source")
            if isinstance(source, dict) and source.get("kind") == "tables":
                return {**data, "tie_types": []}
        return data

    @model_validator(mode="after")
    def _waves(self) -> "Study":
        ids = [w.id for w in self.waves]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"waves: wave id {dup[0]!r} appears twice; wave ids must be unique")
        kind = self.source.kind
        for i, w in enumerate(self.waves):
            _check_wave_keys(kind, i, w)
        if "any" in self.tie_types:
            raise ValueError("tie_types: 'any' is reserved (the union of all tie types is added for you)")
        twice = sorted({t for t in self.tie_types if self.tie_types.count(t) > 1})
        if twice:
            raise ValueError(f"tie_types: {twice[0]!r} is listed twice; list each tie type once")
        values = self.group_values
        twice = sorted({v for v in values if values.count(v) > 1})
        if twice:
            raise ValueError(f"group.levels: value {twice[0]!r} is listed twice; each group level once")
        if self.arms == {}:
            raise ValueError("arms: is empty; give each village `program` or `comparison`, or remove the key")
        if self.arms and len(set(self.arms.values())) < 2:
            arm = next(iter(self.arms.values()))
            raise ValueError(f"arms: every village is {arm!r} ({', '.join(self.arms) or 'none'}); a "
                             "difference-in-differences needs at least one program and one comparison village: "
                             "add the comparison villages (and their data), or remove `arms` for a study of "
                             "program villages only")
        if self.group.reference is not None and self.group.reference not in values:
            raise ValueError(f"group.reference = {self.group.reference!r} is not a group level "
                             f"({', '.join(values)}); name one of group.levels' values, or leave it out to "
                             "use the first")
        if kind == "google_forms" and self.validation == "approved_only":
            raise ValueError("validation: approved_only cannot be used with source kind 'google_forms' (a Google "
                             "Form has no review status: every response counts); write exclude_not_approved")
        forms = [w.form_id for w in self.waves if w.form_id]
        dup = sorted({f for f in forms if forms.count(f) > 1})
        if kind == "odk" and dup:
            raise ValueError(f"waves: form_id {dup[0]!r} is given for two waves; each wave is its own form "
                             "(otherwise the baseline is compared with itself)")
        uids = [w.asset_uid for w in self.waves if w.asset_uid]
        dup = sorted({u for u in uids if uids.count(u) > 1})
        if kind == "kobo" and dup:
            raise ValueError(f"waves: asset_uid {dup[0]!r} is given for two waves; each wave is its own "
                             "KoboToolbox project (otherwise the baseline is compared with itself)")
        return self

    # -- paths ---------------------------------------------------------------------------------
    def resolve(self, p: Path | str) -> Path:
        p = Path(p)
        return p if p.is_absolute() else (self.base / p)

    @property
    def raw_dir(self) -> Path:
        return Path("data/raw") / self.id

    @property
    def processed_dir(self) -> Path:
        return Path("data/processed") / self.id

    @property
    def report_dir(self) -> Path:
        return Path("reports") / self.id

    @property
    def wave_ids(self) -> list[str]:
        return [w.id for w in self.waves]

    def wave_label(self, wave_id: str, language: str | None = None) -> str:
        return _text(next(w for w in self.waves if w.id == wave_id).label, language or self.language, wave_id)

    def group_label(self, value: str, language: str | None = None) -> str:
        for lvl in self.group.levels:
            if lvl.value == value:
                return _text(lvl.label, language or self.language, value)
        return value

    def site_arms(self, sites) -> dict[str, str]:
        """Arm (``program``/``comparison``) of every site in ``sites``; ``{}`` when the study has no
        comparison villages (a one-group study).

        Raises
        ------
        SinergiError
            A site of the data without an arm, or an ``arms`` entry that is no site of the data.
        """
        sites = sorted(set(map(str, sites)))
        arms = dict(self.arms or {})
        n_comp = int(getattr(self.source, "comparison_villages", 0))
        if n_comp and not arms:
            arms = {self.site: "program", **{comparison_name(c): "comparison" for c in range(1, n_comp + 1)}}
        if not arms:
            return {}
        missing = [s for s in sites if s not in arms]
        if missing:
            raise SinergiError(f"{self.file}: arms: site {missing[0]!r} of the data has no arm; give it "
                               f"`program` or `comparison` (sites: {', '.join(sites)})")
        unknown = [s for s in arms if s not in sites]
        if unknown:
            raise SinergiError(f"{self.file}: arms: {unknown[0]!r} is not a site of the data "
                               f"(sites: {', '.join(sites)}); check its spelling")
        return {s: arms[s] for s in sites}

    def program_name(self, language: str | None = None) -> str | None:
        """The program's name (``report.program``) in ``language``; None when not given."""
        p = self.report.program
        return None if p is None else _text(p, language or self.language, "")

    def stages_in(self, language: str | None = None) -> list[tuple[str, str | None, str | None]]:
        """``(name, date, description)`` of each ``report.stages`` entry in ``language``; [] when
        the study lists none."""
        lang = language or self.language
        return [(_text(st.name, lang, ""), st.date, None if st.description is None else _text(st.description, lang, ""))
                for st in self.report.stages or []]

    def institution_name(self, language: str | None = None) -> str | None:
        """The team's institution (``report.institution``) in ``language``; None when not given."""
        p = self.report.institution
        return None if p is None else _text(p, language or self.language, "")

    @property
    def group_values(self) -> list[str]:
        """The group levels in the study's order (every table lists them so)."""
        return [lvl.value for lvl in self.group.levels]

    @property
    def reference_group(self) -> str:
        """The level the models compare the others with: ``group.reference``, else the first level."""
        return self.group.reference or self.group_values[0]

    @property
    def model_levels(self) -> list[str]:
        """The group levels as the models code them: the reference first, then the others in order."""
        ref = self.reference_group
        return [ref, *(v for v in self.group_values if v != ref)]

    @property
    def has_networks(self) -> bool:
        """False for a study that analyses no tie type (``tie_types: []``; a tables study without the key)."""
        return bool(self.tie_types)


#: source kind → the wave keys it needs, and what each is (for the message)
_WAVE_NEEDS = {"kobo_files": {"file": "the XLSX or CSV export"},
               "google_forms": {"file": "the responses file downloaded from Google Forms (.csv or .xlsx)",
                                "contract": "the form's google_form.json, written by `sinergi google script`",
                                "roster": "the roster CSV the form was made with"},
               "odk": {"form_id": "the form's id in the Central project"}}
#: wave keys only some source kinds read (checked for the kinds that would quietly ignore them)
_WAVE_ONLY = {"form_id": ("odk",), "contract": ("google_forms",)}
_WAVE_UNUSED = {"odk": ("asset_uid", "file", "roster"), "google_forms": ("asset_uid",)}


def _check_wave_keys(kind: str, i: int, w: "Wave") -> None:
    """A wave has the keys its source kind needs and none that another kind reads."""
    for key, what in _WAVE_NEEDS.get(kind, {}).items():
        if not getattr(w, key):
            raise ValueError(f"waves[{i}].{key}: needed for source kind '{kind}' ({what})")
    for key, kinds in _WAVE_ONLY.items():
        if getattr(w, key) and kind not in kinds:
            raise ValueError(f"waves[{i}].{key}: is read only by source kind {' or '.join(map(repr, kinds))}, "
                             f"not '{kind}'; remove it")
    for key in _WAVE_UNUSED.get(kind, ()):
        if getattr(w, key):
            why = " (the roster is the form's attachment, pulled with it)" if key == "roster" else ""
            raise ValueError(f"waves[{i}].{key}: is not read for source kind '{kind}'{why}; remove it")


def _text(label: Label | str | None, language: str, fallback: str) -> str:
    if label is None:
        return fallback
    if isinstance(label, str):
        return label
    return getattr(label, language)


def _where(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in SOURCE_KINDS and out == "source":
            continue  # the discriminator's branch name is not a key the user wrote
        elif part in ("Label", "str"):
            continue  # a union's branch name (text or {id, en}) is not a key either
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _message(path: Path, exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = _where(err["loc"])
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        return f"{path}: unknown key '{where}'; check its spelling (allowed keys are in the README, 'Study file')"
    if kind == "missing":
        return f"{path}: missing key '{where}'"
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        return (f"{path}: source.kind = {value.get('kind') if isinstance(value, dict) else value!r} is not allowed; "
                f"allowed: {', '.join(SOURCE_KINDS)}")
    msg = err["msg"].removeprefix("Value error, ")
    if kind == "literal_error":
        msg = "allowed: " + msg.removeprefix("Input should be ").replace("'", "")
    if kind == "bool_type":
        msg = "write true or false (without quotes)"
    if kind == "string_type":
        if value is None:
            return f"{path}: {where} is empty; write a value after '{where.rsplit('.', 1)[-1]}:'"
        msg = "expected text; put it in quotes"
    if kind == "string_pattern_mismatch" and where == "id":
        msg = "use lower-case letters, digits, '-' or '_' (it names folders)"
    shown = "" if isinstance(value, (dict, list)) else f" = {value!r}"
    if where == "analysis.shared_data":  # its message names the URL without a key or password in it
        shown = ""
    if where == "(top level)":
        return f"{path}: {msg}"
    return f"{path}: {where}{shown}: {msg}"


def load_study(path: str | Path) -> Study:
    """Read and validate a study file.

    The file is read with :func:`pipeline.io.read_yaml` (encoding, duplicate keys, one-line YAML
    errors); its ``id`` must be the one :func:`pipeline.io.study_id` reads from the ``id:`` line,
    which is what the Makefile uses.

    Raises
    ------
    SinergiError
        One line naming the file, the key, the value and what is allowed.
    """
    path = Path(path)
    if path.is_dir():
        raise SinergiError(f"{path}: is a folder, not a study file (set STUDY=path/to/study.yaml)")
    if not path.exists():
        raise SinergiError(f"study file not found: {path} (set STUDY=path/to/study.yaml)")
    raw = read_yaml(path)
    if raw is None:
        raise SinergiError(f"{path}: the file is empty; it needs id, title, source and waves (see the README)")
    if not isinstance(raw, dict):
        raise SinergiError(f"{path}: expected key: value pairs (id, title, source, waves, …)")
    if "base" in raw:
        raise SinergiError(f"{path}: unknown key 'base'")
    try:
        study = Study(**raw, base=path.resolve().parent)
    except ValidationError as exc:
        raise SinergiError(_message(path, exc)) from None
    except TypeError:  # keys that are not text, e.g. `1: x`
        raise SinergiError(f"{path}: every top-level key must be a name (id, title, source, waves, …)") from None
    study._file = path
    line_id = study_id(read_text(path), str(path))
    if line_id != study.id:
        raise SinergiError(f"{path}: id: write it on one top-level line, `id: {study.id}` (Make reads it from "
                           f"that line and found {line_id!r})")
    _check_files(path, study)
    return study


def _check_files(path: Path, study: Study) -> None:
    inst = study.resolve(study.instrument)
    if not inst.exists() and (ROOT / study.instrument).exists():
        inst = ROOT / study.instrument
    if not inst.exists():
        raise SinergiError(f"{path}: instrument = '{study.instrument}': file not found")
    if not inst.is_file():
        raise SinergiError(f"{path}: instrument = '{study.instrument}': is a folder; name the instrument "
                           "YAML file (e.g. instruments/sinergi.yaml)")
    if isinstance(study.source, TablesSource):
        folder = study.resolve(study.source.path)
        if not folder.is_dir():
            what = "is a file; name the folder that holds the CSVs" if folder.exists() else f"folder not found ({folder})"
            raise SinergiError(f"{path}: source.path = '{study.source.path}': {what}")
    if study.source.kind != "google_forms":  # its files are made after the study file: checked at pull
        check_wave_files(study)


def check_wave_files(study: Study) -> None:
    """Every file a wave names (``file``, ``contract``, ``roster``) is there and is a file.

    A Google Forms study's files are checked when they are read (``pull``), not when the study is
    loaded: the study file names the contract and the responses before ``sinergi google script``
    writes the one and the form's answers give the other.

    Raises
    ------
    SinergiError
        Naming the study file, the wave key and its value.
    """
    for i, w in enumerate(study.waves):
        named = [("file", w.file), ("roster", w.roster)] + \
            [(f"contract{'' if not isinstance(w.contract, list) else f'[{j}]'}", c) for j, c in enumerate(w.contracts)]
        for key, value in named:
            if value is None:
                continue
            target = study.resolve(value)
            if not target.exists():
                hint = {"file": " (the responses downloaded from the form: Responses → Download responses)",
                        "contract": " (`sinergi google script` writes it)"}.get(key.split("[")[0], "") \
                    if study.source.kind == "google_forms" else ""
                raise SinergiError(f"{study.file}: waves[{i}].{key} = '{value}': file not found{hint}")
            if not target.is_file():
                raise SinergiError(f"{study.file}: waves[{i}].{key} = '{value}': is a folder; name the file")


def check_distinct_waves(study: Study) -> None:
    """Refuse a ``kobo_files`` study whose waves name the same export file (or two files with the
    same bytes): the baseline would be compared with itself. ``pull`` calls this before copying.

    Raises
    ------
    SinergiError
        Naming the study file and both waves.
    """
    seen: dict[str, tuple[int, Path]] = {}
    for i, w in enumerate(study.waves):
        if w.file is None:
            continue
        target = study.resolve(w.file)
        digest = sha256_file(target)
        if digest in seen:
            j, other = seen[digest]
            same = "is the same file as" if study.resolve(other).resolve() == target.resolve() else \
                "has the same content as"
            raise SinergiError(f"{study.file}: waves[{i}].file = '{w.file}' {same} waves[{j}].file = '{other}'; "
                               "each wave needs its own export (otherwise the baseline is compared with itself)")
        seen[digest] = (i, Path(w.file))


def instrument_path(study: Study) -> Path:
    """The study's instrument file (relative to the study file, else to the repository)."""
    p = study.resolve(study.instrument)
    return p if p.exists() else ROOT / study.instrument
