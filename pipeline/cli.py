"""``sinergi``: one subcommand per pipeline stage; Make calls these.

Each command reads its inputs, calls one stage function and writes its outputs atomically.
A :class:`~pipeline.errors.SinergiError` (or a file that cannot be read) is printed as one line
(``sinergi: error: …``) with exit status 2 — never a traceback. Inputs read in an unusual but exact
way (a Windows-1252 file, decimal commas, spaces around values) are reported after a successful run
as ``sinergi: note: …`` lines.

The one module whose pipeline imports sit inside functions, on purpose: each command imports its own
stage, so ``sinergi --help`` answers in a tenth of a second and ``sinergi pull`` does not load the
analysis and report stack (``tests/test_imports.py`` allows it here and nowhere else).
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import sys
from pathlib import Path

from .errors import SinergiError

STUDY_DEFAULT = os.environ.get("STUDY", "study.yaml")


def _study(args):
    from .config import load_study

    return load_study(args.study)


def _instrument(study):
    from .config import instrument_path
    from .instrument import load_instrument

    return load_instrument(instrument_path(study))


def _missing(path: Path) -> SinergiError:
    from .outputs import STAGE_OF

    return SinergiError(f"{path}: missing; run `make report` (or `{STAGE_OF.get(path.name, 'make report')}`) first")


def _read_tables(study, *names):
    import pandas as pd

    from . import schemas

    out = {}
    for name in names:
        path = study.processed_dir / f"{name}.parquet"
        if not path.exists():
            raise _missing(path)
        df = pd.read_parquet(path)
        out[name] = schemas.validate(name, df, str(path)) if name in schemas.SCHEMAS else df
    return out


def _paths(study, *names) -> dict:
    return {name: study.processed_dir / f"{name}.parquet" for name in names}


def _worker_paths(study, *names) -> dict:
    """Where the per-village jobs read these partitioned tables: the local files, or their copies in the
    study's shared store (``analysis.shared_data`` / ``$SINERGI_SHARED_DATA``, :mod:`pipeline.shared`)."""
    from .shared import publish, store_from

    return publish(_paths(study, *names), store_from(study.analysis.shared_data), study.id)


def _partitioned(study, *names) -> bool:
    """Whether tidy wrote these canonical tables one row group per village (``pipeline/partitions.py``)."""
    from .partitions import is_partitioned

    paths = _paths(study, *names)
    for path in paths.values():
        if not path.exists():
            raise _missing(path)
    return all(is_partitioned(p) for p in paths.values())


def _rows(path) -> int:
    """A Parquet table's number of rows, from its footer (without reading the table)."""
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def _read_csvs(study, *names, optional=False):
    from .outputs import read_table

    out = {}
    for name in names:
        path = study.processed_dir / f"{name}.csv"
        if path.exists():
            out[name] = read_table(path)
        elif not optional:
            raise _missing(path)
    return out


def _write_frames(folder: Path, frames: dict):
    """CSV files of what no stage in pipeline/outputs.py makes (the fieldwork monitor's)."""
    from .io import write_csv

    for name, df in frames.items():
        write_csv(folder / f"{name}.csv", df)


def _write_stage(study, stage: str, frames: dict) -> None:
    """Write what ``stage`` made to ``data/processed/<id>/`` under the names ``pipeline.outputs.OUTPUTS``
    gives it (``.parquet`` or ``.csv`` as named there), in that order; ``frames`` is keyed by the name
    without its extension. A stage returning other tables than the registry names is a bug."""
    from .io import FrameParts, write_csv, write_csv_parts, write_parquet
    from .outputs import OUTPUTS
    from .order import canonical_order
    from .partitions import PARTITIONED, SiteFrames, site_of_responses, write_partitioned_rows, write_site_frames

    files = {name.rsplit(".", 1)[0]: name for name in OUTPUTS[stage]}
    if set(frames) != set(files):
        raise RuntimeError(f"stage {stage} returned {sorted(frames)}; pipeline/outputs.py names {sorted(files)}")
    for key, name in files.items():
        path = study.processed_dir / name
        if isinstance(frames[key], SiteFrames):  # given a village at a time, in the canonical order
            write_site_frames(path, frames[key])
        elif isinstance(frames[key], FrameParts):  # a CSV given a piece at a time (network_nodes)
            write_csv_parts(path, frames[key].frames())
        elif stage == "tidy" and key in PARTITIONED:  # one row group per village (pipeline/partitions.py),
            # the rows in the canonical order (pipeline/order.py) whatever order ``frames`` has them in
            sites = frames[key]["site"] if key != "responses" else site_of_responses(frames[key], frames["respondents"])
            write_partitioned_rows(path, frames[key], sites, canonical_order(key, frames[key], study.wave_ids))
        else:
            (write_parquet if name.endswith(".parquet") else write_csv)(path, frames[key])


# -- commands ---------------------------------------------------------------------------------


def cmd_instruments(args):
    """Build the XLSForm, the codebook and the scale map from instruments/sinergi.yaml."""
    from .instrument import check_xlsform, codebook_markdown, load_instrument, scale_map, xlsform_bytes
    from .io import write_bytes, write_csv, write_text

    inst = load_instrument(args.source)
    out = Path(args.out)
    form = xlsform_bytes(inst)
    check_xlsform(inst, form)  # what KoboToolbox's converter would refuse stops here, before writing
    write_bytes(out / "sinergi.xlsx", form)
    write_text(out / "codebook.md", codebook_markdown(inst))
    write_csv(out / "scales.csv", scale_map(inst))
    write_text(out / "google_form.gs", _preview_google_form(inst, Path(args.source).parent / "roster_template.csv"))
    print(f"built {out}/sinergi.xlsx, codebook.md, scales.csv, google_form.gs (a preview Google Form with the "
          "template roster; a wave's form: `sinergi google script --wave W --roster roster.csv`)")


def _preview_google_form(inst, template: Path) -> str:
    """The preview Google Apps Script of ``make instruments``: the instrument in its default language, the
    template roster's example people in the name lists, said so in the title, description and header."""
    from .io import read_csv
    from .report.text import LANGUAGES, s
    from .sources.google_form_script import google_form_script

    lang = inst.default_language
    if lang not in LANGUAGES:
        raise SinergiError(f"{inst.source}: default_language {lang!r} has no message catalogue "
                           f"(pipeline/report/locales/{lang}.yaml) for the preview Google Form's words")
    roster = read_csv(template, expect="name,label").frame
    if not {"name", "label"} <= set(roster.columns):
        raise SinergiError(f"{template}: the roster template needs the columns name,label")
    return google_form_script(inst, lang, roster[["name", "label"]],
                              title=s(lang, "gform_preview_title", title=inst.form["title"][lang]),
                              description=s(lang, "gform_preview_description"), preview=True)


def _pulled_file(raw_dir: Path) -> str | None:
    """A file a pull wrote into a wave's (or village's) folder of ``raw_dir``, when its manifest is
    missing; None when there is none (nothing pulled yet) or the manifest is there."""
    if (raw_dir / "manifest.json").exists() or not raw_dir.is_dir():
        return None
    files = (p.relative_to(raw_dir) for p in sorted(raw_dir.rglob("*")) if p.is_file())
    return next((f.as_posix() for f in files if len(f.parts) > 1 and not any(x.startswith(".") for x in f.parts)),
                None)


def _no_manifest(study, fix: str) -> SinergiError:
    raw = study.raw_dir
    return SinergiError(f"{raw}/manifest.json: missing, but {raw} holds pulled files ({_pulled_file(raw)}): the "
                        f"manifest is written last, so a pull was cut off or the folder was copied without it; {fix}")


def _local_pull(study, *, quiet: bool, fix: str):
    """The pull ``make report`` (``--local-only``) and ``make monitor OFFLINE=1`` make when the raw
    folder has no manifest: a KoboToolbox study's pages without one need a real pull; demo data
    that this study's settings do not make (a copied folder) needs a fresh folder."""
    from .pull import pull

    if _pulled_file(study.raw_dir) is None:
        return pull(study, local_only=True, progress=not quiet)
    if study.source.kind in ("kobo", "odk"):
        raise _no_manifest(study, fix)
    try:
        return pull(study, local_only=True, progress=not quiet)
    except SinergiError:
        if study.source.kind != "demo":
            raise
        raise _no_manifest(study, "the files there are not the demo data this study's settings make (a copy of "
                                  f"another study's folder?): delete {study.raw_dir} and run again to make them "
                                  "anew") from None


def cmd_pull(args):
    """Fetch or copy the study's source data into data/raw/<study>/."""
    from .pull import pull

    study = _study(args)
    if args.if_missing and (study.raw_dir / "manifest.json").exists():
        return
    if args.if_changed and (study.raw_dir / "manifest.json").exists():
        from .pull import pull_if_changed

        manifest = pull_if_changed(study, progress=not args.quiet)
        if manifest is None:
            return
    elif args.local_only or args.if_changed:
        manifest = _local_pull(study, quiet=args.quiet, fix="run `make pull` (it fetches the data again and "
                                                             "writes the manifest; make report never uses the network)")
    else:
        manifest = pull(study, full=args.full, local_only=False, progress=not args.quiet)
    counts = ", ".join(f"{w}: {m.get('count', '-')}" for w, m in manifest["waves"].items())
    print(f"{study.raw_dir}: {manifest['source']} ({counts})")


def cmd_tidy(args):
    """Raw data → canonical tables (respondents, responses, ties, scale_map), quality, sample."""
    from .pull import verify_raw
    from .tidy import tidied

    study = _study(args)
    verify_raw(study)
    inst = None if study.source.kind == "tables" else _instrument(study)
    # the canonical order is taken as each village is written (_write_stage): no sorted copy of the study;
    # a tables study's responses and ties come a village at a time from spill files (pipeline/sources/table_blocks.py)
    with tidied(study, inst, study.raw_dir) as frames:
        _write_stage(study, "tidy", frames)


def cmd_scales(args):
    """Scale scores, reliability and item statistics."""
    from .analysis.scales import run

    study = _study(args)
    if _partitioned(study, "respondents", "responses"):  # item values read village by village
        from .analysis.scales import score_parts, stack_values, statistics, village_values
        from .io import write_csv, write_csv_parts
        from .parallel import scheduler_from
        from .partitions import map_partitions

        sm = _read_tables(study, "scale_map")["scale_map"]
        if len(sm):  # each village's item values from its own rows; then the study-wide statistics
            resp = _respondent_keys(study)
            parts = map_partitions(village_values, _worker_paths(study, "respondents", "responses"),
                                   scheduler_from(study.analysis.scheduler), scale_map=sm)
            coded, agree = stack_values(parts, len(resp), len(sm))
            rel, items = statistics(coded, agree, resp["wave"], sm, study.wave_ids)
            del agree
            # scores.csv written a piece at a time (7 M rows at 2,313 villages), then the two small tables
            write_csv_parts(study.processed_dir / "scores.csv",
                            score_parts(resp, coded, sm, min_share=study.analysis.min_share))
            write_csv(study.processed_dir / "reliability.csv", rel)
            write_csv(study.processed_dir / "items.csv", items)
            return
        frames = run(None, None, sm, study.wave_ids)  # no scale items (a network-only survey): the empty tables
    else:  # tables tidied by an older sinergi: the whole study at once
        t = _read_tables(study, "respondents", "responses", "scale_map")
        frames = run(t["respondents"], t["responses"], t["scale_map"], study.wave_ids,
                     min_share=study.analysis.min_share)
    _write_stage(study, "scales", frames)


def _respondent_keys(study):
    """The respondents table's ``respondent_id``, ``wave``, ``group`` and ``site`` (validated), in its order:
    what the scales stage needs of it (the covariates stay on disk)."""
    import pandas as pd

    from . import schemas

    path = study.processed_dir / "respondents.parquet"
    if not path.exists():
        raise _missing(path)
    columns = list(schemas.RESPONDENTS.columns)
    try:
        df = pd.read_parquet(path, columns=columns)
    except (KeyError, ValueError, IndexError):  # a column missing: validate() names it
        df = pd.read_parquet(path)
    return schemas.validate("respondents", df, str(path))[columns]


def _respondent_column(study, column: str):
    """One column of the respondents table, as text where given (missing values stay missing)."""
    import pandas as pd

    path = study.processed_dir / "respondents.parquet"
    if not path.exists():
        raise _missing(path)
    try:
        col = pd.read_parquet(path, columns=[column])[column]
    except (KeyError, ValueError, IndexError) as exc:
        raise SinergiError(f"{path}: no readable {column} column ({exc}); run `make tidy` again") from None
    return col.where(col.isna(), col.astype(str))


def cmd_network(args):
    """Networks per site × wave × tie type: whole, group, node and change measures."""
    from .analysis.network import analysed_tie_types, run
    from .parallel import scheduler_from

    study = _study(args)
    options = {"seed": study.analysis.seed, "permutations": study.analysis.permutations,
               "scheduler": scheduler_from(study.analysis.scheduler)}
    if _partitioned(study, "respondents", "ties"):  # jobs read their own villages' rows
        from .analysis.network import run_partitioned

        types = analysed_tie_types(study.tie_types, _rows(_paths(study, "ties")["ties"]))
        frames = run_partitioned(_worker_paths(study, "respondents", "ties"), types, study.wave_ids, **options)
    else:  # tables tidied by an older sinergi: the whole study at once
        t = _read_tables(study, "respondents", "ties")
        frames = run(t["respondents"], t["ties"], analysed_tie_types(study.tie_types, t["ties"]), study.wave_ids,
                     **options)
    _write_stage(study, "network", frames)


def cmd_prepost(args):
    """Before/after statistics, mixed models, dose-response and collective-action claims."""
    from .analysis.prepost import NETWORK_DIMENSIONS, SCALE, network_scores, run_parts
    from .coded import equal, frames_by, keep_rows, to_frame

    study = _study(args)
    for path in _paths(study, "respondents", "scale_map").values():
        if not path.exists():
            raise _missing(path)
    # the CSVs first: the memory their parser frees is then reused by the tables read after them
    scores = _coded(study, "scores", SCORE_COLUMNS)
    nodes = _coded(study, "network_nodes", NODE_COLUMNS, optional=True,
                   optional_columns=("group", "site", "degree", "bridging", "ei"))
    nodes = nodes.filter(equal(nodes.column("tie_type"), "any")) if nodes is not None and nodes.num_rows else None
    t = _read_tables(study, "respondents", "scale_map")
    resp = t["respondents"]
    keep = _program_sites(study, resp["site"])
    if keep is not None:
        resp = resp[resp["site"].isin(keep)]
        scores = keep_rows(scores, "site", keep)
        nodes = keep_rows(nodes, "site", keep) if nodes is not None and "site" in nodes.column_names else nodes
    if nodes is not None and not nodes.num_rows:
        nodes = None

    def parts(columns):  # one dimension's scores at a time (scale dimensions, then network indicators)
        text = [c for c in columns if c != "kind"]
        for _, frame in frames_by(scores, "dimension", text):
            yield frame.assign(kind=SCALE)[columns]
        if nodes is None:
            return
        base = ["respondent_id", "wave", "group", "site"]
        for col in NETWORK_DIMENSIONS.values():
            if col in nodes.column_names:
                frame = network_scores(to_frame(nodes.select([c for c in base if c in nodes.column_names] +
                                                             ["tie_type", col])), resp)
                if len(frame):
                    yield frame[columns]

    frames = run_parts(parts, resp, study.wave_ids, alpha=study.analysis.alpha, scale_map=t["scale_map"],
                       levels=study.group_values, reference=study.reference_group)
    _write_stage(study, "prepost", frames)


#: the columns of scores.csv the later stages use (text dictionary-coded, scores float; pipeline/coded.py)
SCORE_COLUMNS = {"respondent_id": "text", "wave": "text", "group": "text", "site": "text", "dimension": "text",
                 "score": "number"}
#: the columns of network_nodes.csv prepost and did use
NODE_COLUMNS = {"respondent_id": "text", "site": "text", "wave": "text", "tie_type": "text", "group": "text",
                "degree": "number", "bridging": "number", "ei": "number"}


def _coded(study, name: str, columns: dict, optional: bool = False, optional_columns: tuple = ()):
    """A stage's CSV output as a compact Arrow table (``pipeline/coded.py``); None when ``optional`` and missing."""
    from .coded import read_coded

    path = study.processed_dir / f"{name}.csv"
    if not path.exists():
        if optional:
            return None
        raise _missing(path)
    return read_coded(path, columns, optional=optional_columns)


def _program_sites(study, sites) -> set | None:
    """With comparison villages, the program villages (the one-group statistics are of them); else None."""
    arms = study.site_arms(sites)
    return {s for s, a in arms.items() if a == "program"} if arms else None


def _sites(study):
    """The ``site`` column of the respondents table (all the district stage needs of it)."""
    import pandas as pd

    path = study.processed_dir / "respondents.parquet"
    if not path.exists():
        raise _missing(path)
    try:
        return pd.read_parquet(path, columns=["site"])["site"]
    except (KeyError, ValueError) as exc:
        raise SinergiError(f"{path}: no readable site column ({exc}); run `make tidy` again") from None


def cmd_district(args):
    """A district: each dimension's change per village and pooled over villages (district.csv, district_sites.csv)."""
    from .analysis.district import PART_COLUMNS, run_parts
    from .coded import frames_by, keep_rows

    study = _study(args)
    scores = _coded(study, "scores", {c: SCORE_COLUMNS[c] for c in PART_COLUMNS})
    keep = _program_sites(study, _sites(study))
    if keep is not None:
        scores = keep_rows(scores, "site", keep)

    def parts(columns):  # one dimension's scores at a time
        for _, frame in frames_by(scores, "dimension", columns):
            yield frame

    _write_frames(study.processed_dir, run_parts(parts, study.wave_ids, alpha=study.analysis.alpha))


def cmd_did(args):
    """Comparison villages: difference-in-differences, ANCOVA, baseline balance (did.csv, balance.csv)."""
    from .analysis.did import run

    study = _study(args)
    arms = study.site_arms(_sites(study))
    if not arms or len(study.wave_ids) < 2:  # no comparison villages: the empty tables, nothing else read
        _write_stage(study, "did", run(None, None, arms, study.wave_ids))
        return
    t = _read_tables(study, "respondents")
    c = _read_csvs(study, "scores", "network_nodes", "network_whole")
    arms = study.site_arms(t["respondents"]["site"])
    frames = run(c["scores"], t["respondents"], arms, study.wave_ids, network_nodes=c["network_nodes"],
                 network_whole=c["network_whole"], group_values=study.model_levels, alpha=study.analysis.alpha,
                 draws=study.designs.ri_draws, seed=study.analysis.seed)
    _write_stage(study, "did", frames)


def cmd_invariance(args):
    """Measurement invariance: configural, metric and scalar multi-group CFA per dimension (invariance.csv)."""
    from .analysis.invariance import invariance
    from .parallel import scheduler_from

    study = _study(args)
    scheduler = scheduler_from(study.analysis.scheduler)
    if _partitioned(study, "respondents", "responses"):  # the wide item table built village by village
        from .analysis.invariance import from_arrays, stack_items, wide_items
        from .partitions import map_partitions

        sm = _read_tables(study, "scale_map")["scale_map"]
        parts = map_partitions(wide_items, _worker_paths(study, "respondents", "responses"), scheduler,
                               scale_map=sm) if len(sm) else []
        # the jobs validated the respondents' rows; of the whole table only the groups (the levels) are read
        groups = _respondent_column(study, "group") if not study.group_values and len(sm) else None
        df = from_arrays(*stack_items(parts), groups, sm, study.wave_ids, group_values=study.group_values,
                         scheduler=scheduler)
    else:  # tables tidied by an older sinergi: the whole study at once
        t = _read_tables(study, "respondents", "responses", "scale_map")
        df = invariance(t["responses"], t["respondents"], t["scale_map"], study.wave_ids,
                        group_values=study.group_values, scheduler=scheduler)
    _write_stage(study, "invariance", {"invariance": df})


def cmd_coverage(args):
    """Missing network data: roster coverage, ties to and from non-respondents, E-I/assortativity sensitivity."""
    from .analysis.coverage import coverage
    from .analysis.network import analysed_tie_types
    from .parallel import scheduler_from

    study = _study(args)
    options = {"min_coverage": study.designs.min_coverage, "group_values": study.group_values,
               "scheduler": scheduler_from(study.analysis.scheduler)}
    if _partitioned(study, "respondents", "ties"):  # jobs read their own villages' ties
        from .analysis.coverage import coverage_partitioned

        types = analysed_tie_types(study.tie_types, _rows(_paths(study, "ties")["ties"]))
        t = _read_tables(study, "respondents")
        df = coverage_partitioned(t["respondents"], _worker_paths(study, "respondents", "ties"), types,
                                  study.wave_ids, **options)
    else:  # tables tidied by an older sinergi: the whole study at once
        t = _read_tables(study, "respondents", "ties")
        df = coverage(t["respondents"], t["ties"], analysed_tie_types(study.tie_types, t["ties"]), study.wave_ids,
                      **options)
    _write_stage(study, "coverage", {"network_coverage": df})


def cmd_plan(args):
    """Power for the next program by simulation: paired test, DiD and ΔE-I (plan.csv)."""
    from .analysis.plan import plan

    study = _study(args)
    df = plan(study.plan, alpha=study.analysis.alpha, seed=study.analysis.seed)
    _write_stage(study, "plan", {"plan": df})
    print(f"{study.processed_dir}/plan.csv: power for {len(df['respondents_per_village'].unique())} sizes "
          f"× {df['test'].nunique()} tests ({study.plan.sims} simulations each)")


def cmd_report(args):
    """Write reports/<study>/report.html (and the other report outputs)."""
    from .report.build import build

    study = _study(args)
    path = build(study)
    print(f"report: {path}")


def cmd_monitor(args):
    """Fieldwork monitor: pull what is new, then write reports/<study>/monitor.html and coverage.csv."""
    from datetime import datetime, timezone

    from . import monitor as M
    from .io import read_json, write_json, write_text
    from .pull import pull, verify_raw
    from .pseudonym import pseudonym_width, pseudonymizer, read_key

    study = _study(args)
    if study.source.kind == "tables":
        raise SinergiError("monitor reads survey submissions (sources kobo, kobo_files, odk, google_forms, demo); "
                           "a tables study has none: check its CSVs before `make report`")
    has_raw = (study.raw_dir / "manifest.json").exists()
    if args.offline and not has_raw and study.source.kind in ("kobo", "odk") and _pulled_file(study.raw_dir) is None:
        raise SinergiError(f"{study.raw_dir}: nothing pulled yet; run `make monitor` once without OFFLINE=1")
    if not has_raw and (args.offline or study.source.kind == "demo"):
        _local_pull(study, quiet=args.quiet, fix="run `make monitor` without OFFLINE=1 (or `make pull`): it fetches "
                                                  "the data again and writes the manifest")
    elif not has_raw or (not args.offline and study.source.kind != "demo"):  # the demo has nothing new to pull
        pull(study, local_only=args.offline, progress=not args.quiet)
    verify_raw(study)
    manifest = read_json(study.raw_dir / "manifest.json")
    as_of = max((str(m.get("pulled_at", "")) for m in manifest["waves"].values()), default="")
    inst = _instrument(study)
    pseudo = pseudonymizer(read_key(study.raw_dir), pseudonym_width(study.raw_dir))
    state_path = study.processed_dir / "monitor_state.json"
    private = M.PRIVATE_DIR / study.id
    out = M.run(study, inst, M.read_waves(study, inst, study.raw_dir), pseudo, previous=M.read_state(state_path),
                as_of=as_of, run_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                names_path=f"{private}/monitor-names.html")
    _write_frames(study.processed_dir, {"coverage": out["coverage"], "monitor_flags": out["flags"],
                                        "monitor_enumerators": out["enumerators"], "monitor_daily": out["daily"],
                                        "monitor_missing": out["missing"]})
    _write_frames(private, {"monitor-names": out["names"]})
    write_text(private / "monitor-names.html", out["names_html"])
    write_text(study.report_dir / "monitor.html", out["html"])
    write_json(state_path, out["state"])  # last: a failed run is compared with the run before it
    a = out["coverage"][out["coverage"]["group"] == M.ALL]
    print("; ".join(f"{r.wave}: {r.interviewed}/{r.roster_n} interviewed" for r in a.itertuples())
          + f"; {len(out['flags'])} flag(s) → {study.report_dir}/monitor.html (names: {private}/)")


def _kobo_client(args):
    """A client for the study's KoboToolbox server: ``--server``, else ``$KOBO_SERVER``, else the
    study's ``source.server``, else the Global server (and the token variable likewise)."""
    from .sources.kobo.client import KoboClient, get_token

    study = None
    if Path(args.study).is_file():
        study = _study(args)
    elif args.study != STUDY_DEFAULT or os.environ.get("STUDY"):
        raise SinergiError(f"study file not found: {args.study}")
    src = study.source if study is not None and study.source.kind == "kobo" else None
    server = args.server or os.environ.get("KOBO_SERVER") or (src.server if src else None) \
        or "https://kf.kobotoolbox.org"
    token_env = args.token_env or (src.token_env if src else "KOBO_TOKEN")
    return study, KoboClient(server, get_token(token_env, server=server),
                             max_wait=src.max_wait if src else 300.0)


def cmd_kobo_list(args):
    """List the KoboToolbox projects your token can see (own, shared, organisation, project views)."""
    from .sources.kobo.client import list_projects

    _, client = _kobo_client(args)
    with client:
        df = list_projects(client)
    print(f"{client.server}:")
    print(df.fillna({"submissions": "?"}).to_string(index=False) if len(df) else "no projects")
    if df["submissions"].isna().any():
        print("? = your account may see only some submissions of that project (partial permission)")


def cmd_kobo_deploy(args):
    """Create or update a wave's KoboToolbox project from the built XLSForm and roster, deploy it."""
    from .config import ROOT
    from .roster import roster_upload_bytes
    from .sources.kobo.deploy import deploy

    if not args.roster:
        raise SinergiError("kobo deploy: --roster is missing; give the village roster CSV (columns name,label, "
                           "one row per person), e.g. `sinergi kobo deploy --wave pre --roster roster.csv`")
    roster = Path(args.roster)
    template = ROOT / "instruments" / "roster_template.csv"
    if roster.is_file() and template.is_file() and roster.read_bytes() == template.read_bytes():
        raise SinergiError(f"--roster {args.roster}: that is the template's example people; give the "
                           "village's own roster (columns name,label; README, 'Deploying it on KoboToolbox')")
    roster_upload_bytes(roster)  # a bad roster stops here, before the token is looked up or anything is sent
    study, client = _kobo_client(args)
    title, uid, hint = None, args.asset_uid, "sinergi kobo deploy --roster {roster} --asset-uid {uid}"
    if args.wave:
        if study is None:
            raise SinergiError("--wave needs a study file (--study, or STUDY=…)")
        if args.wave not in study.wave_ids:
            raise SinergiError(f"--wave {args.wave}: not a wave of {args.study} ({', '.join(study.wave_ids)})")
        wave = next(w for w in study.waves if w.id == args.wave)
        title = f"{study.title} — {study.wave_label(wave.id)}"
        uid = uid or wave.asset_uid
        hint = f"sinergi kobo deploy --study {args.study} --wave {wave.id} --roster {{roster}} --asset-uid {{uid}}"
    with client:
        result = deploy(client, Path(args.xlsform), Path(args.roster), asset_uid=uid, title=title,
                        rerun_hint=hint.replace("{roster}", args.roster))
    print(f"{'created' if result['created'] else 'updated'} and deployed {result['uid']} "
          f"({result['name']}) on {client.server}")
    if result["url"]:
        print(f"collect at {result['url']}")
    else:
        print(f"the web-form link is not ready yet (Enketo did not answer); find it later under "
              f"Form → Collect data at {result['project_url']}")
    print(f"roster: {Path(args.roster).name} uploaded as roster.csv; KoboToolbox copies it to the form in "
          "the background (usually within a minute): open the form once and check the name list "
          "before enumerators start")
    if result["created"] and args.wave:
        print(f"put `asset_uid: {result['uid']}` under wave {args.wave} in {args.study}")


def _wave_of(study, wave_id: str | None, kind: str, command: str):
    """The study's wave ``wave_id`` for a ``command`` that needs a study of source ``kind``."""
    if study.source.kind != kind:
        raise SinergiError(f"{command}: {study.file} has source kind '{study.source.kind}', not '{kind}'; "
                           f"give the study file of the {kind} study (--study)")
    if not wave_id or wave_id not in study.wave_ids:
        raise SinergiError(f"{command}: --wave {wave_id or '(missing)'}: give a wave of {study.file} "
                           f"({', '.join(study.wave_ids)})")
    return next(w for w in study.waves if w.id == wave_id)


def cmd_odk_deploy(args):
    """Create or update a wave's form on ODK Central (draft, roster attachment, publish) and print its links."""
    from .sources.odk import OdkClient, credentials, deploy_odk

    if not args.roster:
        raise SinergiError("odk deploy: --roster is missing; give the village roster CSV (columns name,label), "
                           "e.g. `sinergi odk deploy --wave pre --roster roster.csv`")
    study = _study(args)
    wave = _wave_of(study, args.wave, "odk", "odk deploy")
    xlsform = Path(args.xlsform)
    if not xlsform.is_file():
        raise SinergiError(f"{xlsform}: not found; run `make instruments` first")
    inst = _instrument(study)
    src = study.source
    with OdkClient(credentials(src.server, username_env=src.username_env, password_env=src.password_env),
                   max_wait=src.max_wait) as client:
        out = deploy_odk(client, project_id=src.project_id, form_id=wave.form_id, xlsx=xlsform.read_bytes(),
                         roster_path=args.roster, title=f"{study.title} — {study.wave_label(wave.id)}",
                         instrument_version=str(inst.form["version"]), wave=wave.id)
    state = "created and published" if out["created"] else ("published a new version of" if out["changed"]
                                                             else "unchanged (already published):")
    print(f"{state} form {wave.form_id}, version {out['version']}, on {client.server}")
    print(f"form: {out['form_url']}")
    print(f"web form (Enketo): {out['enketo_url'] or 'not available on this server'}")
    print(f"app users and their QR codes for ODK Collect: {out['app_users_url']}")


def cmd_google_script(args):
    """Write a wave's Google Apps Script (google_form.gs) and the contract its answers are read with (google_form.json)."""
    from .io import write_json, write_text
    from .roster import read_roster_csv
    from .sources.google_form_script import google_form_contract, google_form_script

    if not args.roster:
        raise SinergiError("google script: --roster is missing; give the village roster CSV (columns name,label), "
                           "e.g. `sinergi google script --wave pre --roster roster.csv`")
    study = _study(args)
    wave = _wave_of(study, args.wave, "google_forms", "google script")
    roster = read_roster_csv(args.roster)
    inst = _instrument(study)
    title = f"{study.title} — {study.wave_label(wave.id)}"
    out = Path(args.out) if args.out else study.resolve(Path("forms") / wave.id)
    contract = google_form_contract(inst, study.language, roster, title=title)
    old = out / "google_form.json"
    if old.is_file() and json.loads(old.read_text(encoding="utf-8")).get("version") != contract["version"]:
        raise SinergiError(f"{old}: a contract of another version of the form is already there (the responses of "
                           f"that form are read with it: keep it); write the new one beside it, e.g. "
                           f"--out {out.parent / (wave.id + '-v2')}, and list both under the wave's contract")
    write_text(out / "google_form.gs", google_form_script(inst, study.language, roster, title=title))
    write_json(out / "google_form.json", contract)
    print(f"wrote {out}/google_form.gs (paste it into script.google.com, run createForm) and "
          f"{out}/google_form.json (the study's waves[].contract for wave {wave.id})")


def cmd_roster_next(args):
    """Write the next wave's roster from a wave's: stable ids, baseline respondents first, newcomers appended, leavers kept."""
    from .io import write_bytes
    from .roster import next_roster, read_roster_csv, roster_csv_bytes
    from .screening import screen
    from .sources.raw import has_wave, read_wave

    study = _study(args)
    if study.source.kind in ("tables", "demo") or args.source not in study.wave_ids:
        raise SinergiError(f"roster next: --from {args.source}: give a pulled wave of a kobo, kobo_files, odk or "
                           f"google_forms study ({', '.join(study.wave_ids)} in {study.file})")
    inst = _instrument(study)
    first = study.wave_ids[0]
    baseline: list[str] = []
    if has_wave(study.raw_dir, first):
        raw = read_wave(study.raw_dir, first, inst)
        baseline = [d.respondent for d in screen(raw.submissions, raw.roster, inst, raw.forms.xpaths,
                                                 validation=study.validation, wave=first) if d.counted]
    previous = study.raw_dir / args.source / "media" / "roster.csv"
    if not previous.is_file():
        raise SinergiError(f"{previous}: not found; run `make pull` first (the roster comes with the wave's data)")
    used = {i for w in study.wave_ids for p in (study.raw_dir / w / "media").glob("*.csv")
            for i in read_roster_csv(p)["name"]}
    newcomers = _newcomers_csv(args.newcomers) if args.newcomers else None
    leavers = [x.strip() for x in (args.left or "").split(",") if x.strip()]
    last = read_roster_csv(previous)
    on_last = set(last["name"])  # someone interviewed at baseline and since dropped from the roster stays off it
    table = next_roster(last, baseline=[b for b in baseline if b in on_last], leavers=leavers,
                        newcomers=newcomers, used_ids=used, language=study.language, where=str(previous))
    write_bytes(Path(args.out), roster_csv_bytes(table))
    counts = table["status"].value_counts()
    print(f"wrote {args.out}: {len(table)} people ({', '.join(f'{counts.get(k, 0)} {k}' for k in ('baseline', 'listed', 'left', 'new'))})")


def _newcomers_csv(path: str):
    """A newcomers CSV: a ``label`` column (and optionally ``name``), read as strictly as a roster."""
    from .io import read_csv

    frame = read_csv(path, expect="label").frame
    if "label" not in frame.columns:
        raise SinergiError(f"{path}: needs a 'label' column (one newcomer a row; 'name' optional)")
    return frame


# -- parser -----------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """An argument parser whose mistakes (a missing value, an unknown option) are one
    ``sinergi: error:`` line, like every other mistake, not argparse's usage block."""

    def error(self, message: str):
        where = self.prog.removeprefix("sinergi").strip()
        raise SinergiError(f"{where + ': ' if where else ''}{message} (`{self.prog} --help` lists the options)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="sinergi", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name, func, study=True):
        sp = sub.add_parser(name, help=func.__doc__.strip().splitlines()[0], description=func.__doc__.strip())
        if study:
            sp.add_argument("--study", default=STUDY_DEFAULT, help="study file (default: $STUDY or study.yaml)")
        sp.set_defaults(func=func)
        return sp

    sp = add("instruments", cmd_instruments, study=False)
    sp.add_argument("--source", default="instruments/sinergi.yaml", help="instrument YAML")
    sp.add_argument("--out", default="instruments/build", help="output folder")
    sp = add("pull", cmd_pull)
    sp.add_argument("--full", action="store_true", help="KoboToolbox: refetch every submission (a normal pull already catches edits, late arrivals, validation changes and deletions)")
    sp.add_argument("--local-only", action="store_true", help="refuse sources that need the network")
    sp.add_argument("--if-missing", action="store_true", help="do nothing when raw data already exists")
    sp.add_argument("--if-changed", action="store_true",
                    help="what make report runs: pull (never from the network) when there is no raw data yet "
                         "or a local source's files differ from their raw copy, else do nothing")
    sp.add_argument("--quiet", action="store_true", help="no progress bars")
    add("tidy", cmd_tidy)
    add("scales", cmd_scales)
    add("network", cmd_network)
    add("prepost", cmd_prepost)
    add("district", cmd_district)
    add("did", cmd_did)
    add("invariance", cmd_invariance)
    add("coverage", cmd_coverage)
    add("plan", cmd_plan)
    add("report", cmd_report)
    sp = add("monitor", cmd_monitor)
    sp.add_argument("--offline", action="store_true", help="use the last pull, no network (make monitor OFFLINE=1)")
    sp.add_argument("--quiet", action="store_true", help="no progress bars")

    kobo = sub.add_parser("kobo", help="KoboToolbox projects: list, deploy", description="KoboToolbox projects")
    ksub = kobo.add_subparsers(dest="kobo_command", required=True, metavar="COMMAND")
    for name, func in (("list", cmd_kobo_list), ("deploy", cmd_kobo_deploy)):
        kp = ksub.add_parser(name, help=func.__doc__.strip(), description=func.__doc__.strip())
        kp.add_argument("--study", default=STUDY_DEFAULT,
                        help="study file whose source.server and token_env are used (default: $STUDY or study.yaml)")
        kp.add_argument("--server", default=None,
                        help="KoboToolbox server (default: $KOBO_SERVER, else the study's source.server, "
                             "else https://kf.kobotoolbox.org; https://eu.kobotoolbox.org for the EU server)")
        kp.add_argument("--token-env", default=None,
                        help="environment variable holding the API token (default: the study's, else KOBO_TOKEN)")
        kp.set_defaults(func=func)
        if name == "deploy":
            kp.add_argument("--roster", default=None,
                            help="the village roster CSV (name,label), required: never the template's example people")
            kp.add_argument("--wave", default=None,
                            help="the study's wave this project is for: names the project '<title> — <wave label>' "
                                 "and updates the wave's asset_uid project")
            kp.add_argument("--xlsform", default="instruments/build/sinergi.xlsx")
            kp.add_argument("--asset-uid", default=None, help="update this project instead of creating one")
    _more_commands(sub)
    return p


def _more_commands(sub) -> None:
    """``odk deploy``, ``google script`` and ``roster next``."""
    study_help = "study file (default: $STUDY or study.yaml)"
    groups = (("odk", "ODK Central forms: deploy", (("deploy", cmd_odk_deploy),)),
              ("google", "Google Forms: the Apps Script that makes a wave's form", (("script", cmd_google_script),)),
              ("roster", "the village roster: the next wave's", (("next", cmd_roster_next),)))
    for group, help_text, commands in groups:
        gp = sub.add_parser(group, help=help_text, description=help_text)
        gsub = gp.add_subparsers(dest=f"{group}_command", required=True, metavar="COMMAND")
        for name, func in commands:
            doc = func.__doc__.strip()
            sp = gsub.add_parser(name, help=doc, description=doc)
            sp.add_argument("--study", default=STUDY_DEFAULT, help=study_help)
            sp.set_defaults(func=func)
            if group in ("odk", "google"):
                sp.add_argument("--wave", default=None, help="the study's wave the form is for")
                sp.add_argument("--roster", default=None, help="the village roster CSV (name,label), required")
            if group == "odk":
                sp.add_argument("--xlsform", default="instruments/build/sinergi.xlsx")
            if group == "google":
                sp.add_argument("--out", default=None, help="folder for google_form.gs and google_form.json "
                                                            "(default: forms/<wave>/ beside the study file)")
            if group == "roster":
                sp.add_argument("--from", dest="source", required=True, help="the pulled wave whose roster to start from")
                sp.add_argument("--out", required=True, help="the new roster CSV to write")
                sp.add_argument("--newcomers", default=None, help="CSV of new people (a label column)")
                sp.add_argument("--left", default=None, help="ids of people who left, comma-separated (u017,u088)")


_FAST_EXIT = (cmd_scales, cmd_network, cmd_prepost, cmd_district, cmd_did, cmd_invariance, cmd_coverage)
"""Stages that end with :func:`_fast_exit`: pure analysis, outputs written, nothing left open."""


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SinergiError as exc:
        print(f"sinergi: error: {exc}", file=sys.stderr)
        return 2
    from .io import take_notes

    take_notes()
    study = getattr(args, "study", None)
    try:
        if study is not None and Path(study).is_dir():
            raise SinergiError(f"--study {study}: is a folder; name the study file (STUDY=path/to/study.yaml)")
        args.func(args)
    except SinergiError as exc:
        take_notes()
        print(f"sinergi: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file that cannot be read or written: name it, no traceback
        take_notes()
        where = f"{exc.filename}: " if exc.filename else ""
        full = "; the disk is full: free some space and run it again" if exc.errno == errno.ENOSPC else ""
        print(f"sinergi: error: {where}{exc.strerror or exc}{full}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sinergi: interrupted; files already written are complete, nothing half-written was kept",
              file=sys.stderr)
        return 130
    for text in take_notes():
        print(f"sinergi: note: {text}", file=sys.stderr)
    if argv is None and args.func in _FAST_EXIT:
        _fast_exit()
    return 0


def _fast_exit() -> None:
    """End the process now: every output is written (atomically, closed) and the pool or Dask
    cluster shut down. Skips the interpreter's teardown -- freeing every module and frame one
    by one, ≈ 0.3 s of a stage that takes 1-2 s at village scale. Only from the command line
    (``argv`` None), never when a test calls :func:`main` in its own process."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
