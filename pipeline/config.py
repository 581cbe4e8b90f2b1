"""Study configuration: ``study.yaml`` → a validated :class:`Study`.

A study names its source, its ordered waves, the grouping variable and the analysis settings.
Unknown keys, wrong types and missing files are reported in one line naming the key, the value
and what is allowed. Relative paths are read from the folder that holds the study file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import SinergiError

ROOT = Path(__file__).resolve().parent.parent
ID_RE = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Label(_Model):
    """A text in both report languages."""

    id: str
    en: str


class DemoSource(_Model):
    kind: Literal["demo"]
    seed: int = 20261123
    n_respondents: int = Field(140, ge=20, le=5000)
    share_migrant: float = Field(0.4, gt=0, lt=1)


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


Source = Annotated[Union[DemoSource, TablesSource, KoboSource, KoboFilesSource], Field(discriminator="kind")]


class Wave(_Model):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$")]
    label: Label | str | None = None
    asset_uid: str | None = None
    file: Path | None = None
    roster: Path | None = None


class GroupLevel(_Model):
    value: str
    label: Label | str | None = None


class Group(_Model):
    variable: str = "origin"
    levels: list[GroupLevel] = Field(
        default_factory=lambda: [GroupLevel(value="lokal", label=Label(id="Lokal", en="Local")),
                                 GroupLevel(value="pendatang", label=Label(id="Pendatang", en="Migrant"))],
        min_length=2)


class Analysis(_Model):
    seed: int = 20261123
    permutations: int = Field(5000, ge=99, le=1_000_000)
    alpha: float = Field(0.05, gt=0, lt=0.5)
    min_share: float = Field(2 / 3, gt=0, le=1)
    #: where per-site work runs (pipeline/parallel.py): auto, serial, processes, local or a Dask
    #: scheduler address; $SINERGI_SCHEDULER overrides it
    scheduler: str = "auto"

    @field_validator("scheduler")
    @classmethod
    def _scheduler(cls, v: str) -> str:
        from .parallel import KEYWORDS, _ADDRESS

        if v in KEYWORDS or _ADDRESS.match(v):
            return v
        raise ValueError(f"{v!r} is not a scheduler (use auto, serial, processes, local or a Dask "
                         "scheduler address such as tcp://10.0.0.5:8786)")


class Privacy(_Model):
    show_names: bool = False


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
    tie_types: list[str] = Field(default_factory=lambda: ["info", "help", "collab"], min_length=1)
    analysis: Analysis = Field(default_factory=Analysis)
    privacy: Privacy = Field(default_factory=Privacy)
    #: which KoboToolbox validation statuses count: every submission except those marked
    #: Not Approved (default), or only those marked Approved
    validation: Literal["exclude_not_approved", "approved_only"] = "exclude_not_approved"
    #: folder holding the study file; relative paths are resolved against it (not a YAML key).
    base: Path = Field(default=Path("."), exclude=True)

    @model_validator(mode="after")
    def _waves(self) -> "Study":
        ids = [w.id for w in self.waves]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"waves: wave id {dup[0]!r} appears twice; wave ids must be unique")
        kind = self.source.kind
        for i, w in enumerate(self.waves):
            if kind == "kobo_files" and not w.file:
                raise ValueError(f"waves[{i}].file: needed for source kind 'kobo_files' (the XLSX or CSV export)")
        if "any" in self.tie_types:
            raise ValueError("tie_types: 'any' is reserved (the union of all tie types is added for you)")
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

    @property
    def group_values(self) -> list[str]:
        return [lvl.value for lvl in self.group.levels]


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
        elif part in ("demo", "tables", "kobo", "kobo_files") and out == "source":
            continue  # the discriminator's branch name is not a key the user wrote
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
                "allowed: demo, tables, kobo, kobo_files")
    msg = err["msg"].removeprefix("Value error, ")
    if kind == "literal_error":
        msg = "allowed: " + msg.removeprefix("Input should be ").replace("'", "")
    if kind == "string_pattern_mismatch" and where == "id":
        msg = "use lower-case letters, digits, '-' or '_' (it names folders)"
    shown = "" if isinstance(value, (dict, list)) else f" = {value!r}"
    if where == "(top level)":
        return f"{path}: {msg}"
    return f"{path}: {where}{shown}: {msg}"


def load_study(path: str | Path) -> Study:
    """Read and validate a study file.

    Raises
    ------
    SinergiError
        One line naming the file, the key, the value and what is allowed.
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SinergiError(f"study file not found: {path} (set STUDY=path/to/study.yaml)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark else ""
        raise SinergiError(f"{path}: not valid YAML{line}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict):
        raise SinergiError(f"{path}: expected key: value pairs (id, title, source, waves, …)")
    if "base" in raw:
        raise SinergiError(f"{path}: unknown key 'base'")
    try:
        study = Study(**raw, base=path.resolve().parent)
    except ValidationError as exc:
        raise SinergiError(_message(path, exc)) from None
    _check_files(path, study)
    return study


def _check_files(path: Path, study: Study) -> None:
    inst = study.resolve(study.instrument) if not Path(study.instrument).is_absolute() else study.instrument
    if not inst.exists():
        alt = ROOT / study.instrument
        if not alt.exists():
            raise SinergiError(f"{path}: instrument = '{study.instrument}': file not found")
    if isinstance(study.source, TablesSource):
        folder = study.resolve(study.source.path)
        if not folder.is_dir():
            raise SinergiError(f"{path}: source.path = '{study.source.path}': folder not found ({folder})")
    for i, w in enumerate(study.waves):
        for key in ("file", "roster"):
            value = getattr(w, key)
            if value is not None and not study.resolve(value).exists():
                raise SinergiError(f"{path}: waves[{i}].{key} = '{value}': file not found")


def instrument_path(study: Study) -> Path:
    """The study's instrument file (relative to the study file, else to the repository)."""
    p = study.resolve(study.instrument)
    return p if p.exists() else ROOT / study.instrument
