"""``sinergi``: one subcommand per pipeline stage; Make calls these.

Each command reads its inputs, calls one stage function and writes its outputs atomically.
A :class:`~pipeline.errors.SinergiError` is printed as one line (``sinergi: error: …``) with exit
status 2 — never a traceback.
"""

from __future__ import annotations

import argparse
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


def _read_tables(study, *names):
    import pandas as pd

    from . import schemas

    out = {}
    for name in names:
        path = study.processed_dir / f"{name}.parquet"
        if not path.exists():
            raise SinergiError(f"{path}: missing; run `make report` (or `make tidy`) first")
        df = pd.read_parquet(path)
        out[name] = schemas.validate(name, df, str(path)) if name in schemas.SCHEMAS else df
    return out


def _read_csvs(study, *names, optional=False):
    import pandas as pd

    out = {}
    for name in names:
        path = study.processed_dir / f"{name}.csv"
        if path.exists():
            out[name] = pd.read_csv(path, dtype={"respondent_id": str, "wave": str, "group": str, "site": str})
        elif not optional:
            raise SinergiError(f"{path}: missing; run `make report` first")
    return out


def _write_frames(folder: Path, frames: dict, parquet=()):
    from .io import write_csv, write_parquet

    for name, df in frames.items():
        if name in parquet:
            write_parquet(folder / f"{name}.parquet", df)
        else:
            write_csv(folder / f"{name}.csv", df)


# -- commands ---------------------------------------------------------------------------------


def cmd_instruments(args):
    """Build the XLSForm, the codebook and the scale map from instruments/sinergi.yaml."""
    from .instrument import codebook_markdown, load_instrument, scale_map, write_xlsform
    from .io import write_csv, write_text

    inst = load_instrument(args.source)
    out = Path(args.out)
    write_xlsform(inst, out / "sinergi.xlsx")
    write_text(out / "codebook.md", codebook_markdown(inst))
    write_csv(out / "scales.csv", scale_map(inst))
    print(f"built {out}/sinergi.xlsx, codebook.md, scales.csv")


def cmd_pull(args):
    """Fetch or copy the study's source data into data/raw/<study>/."""
    from .pull import pull

    study = _study(args)
    if args.if_missing and (study.raw_dir / "manifest.json").exists():
        return
    manifest = pull(study, full=args.full, local_only=args.local_only, progress=not args.quiet)
    counts = ", ".join(f"{w}: {m.get('count', '-')}" for w, m in manifest["waves"].items())
    print(f"{study.raw_dir}: {manifest['source']} ({counts})")


def cmd_tidy(args):
    """Raw data → canonical tables (respondents, responses, ties, scale_map), quality, sample."""
    from .pull import verify_raw
    from .tidy import run

    study = _study(args)
    verify_raw(study)
    inst = None if study.source.kind == "tables" else _instrument(study)
    frames = run(study, inst, study.raw_dir)
    _write_frames(study.processed_dir, frames, parquet=("respondents", "responses", "ties", "scale_map"))


def cmd_scales(args):
    """Scale scores, reliability and item statistics."""
    from .scales import run

    study = _study(args)
    t = _read_tables(study, "respondents", "responses", "scale_map")
    frames = run(t["respondents"], t["responses"], t["scale_map"], study.wave_ids,
                 min_share=study.analysis.min_share)
    _write_frames(study.processed_dir, frames)


def cmd_network(args):
    """Networks per site × wave × tie type: whole, group, node and change measures."""
    from .network import run
    from .parallel import scheduler_from

    study = _study(args)
    t = _read_tables(study, "respondents", "ties")
    frames = run(t["respondents"], t["ties"], study.tie_types, study.wave_ids,
                 seed=study.analysis.seed, permutations=study.analysis.permutations,
                 scheduler=scheduler_from(study.analysis.scheduler))
    _write_frames(study.processed_dir, frames)


def cmd_prepost(args):
    """Before/after statistics, mixed models, dose-response and collective-action claims."""
    from .prepost import run

    study = _study(args)
    t = _read_tables(study, "respondents", "scale_map")
    c = _read_csvs(study, "scores")
    nodes = _read_csvs(study, "network_nodes", optional=True).get("network_nodes")
    frames = run(c["scores"], t["respondents"], study.wave_ids, alpha=study.analysis.alpha,
                 network_nodes=nodes, scale_map=t["scale_map"])
    _write_frames(study.processed_dir, frames)


def cmd_report(args):
    """Write reports/<study>/report.html (and the other report outputs)."""
    from .report import build

    study = _study(args)
    path = build(study)
    print(f"report: {path}")


def _kobo_client(args):
    """A client for the study's KoboToolbox server: ``--server``, else ``$KOBO_SERVER``, else the
    study's ``source.server``, else the Global server (and the token variable likewise)."""
    from .kobo import KoboClient, get_token

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
    from .kobo import list_projects

    _, client = _kobo_client(args)
    with client:
        df = list_projects(client)
    print(f"{client.server}:")
    print(df.fillna({"submissions": "?"}).to_string(index=False) if len(df) else "no projects")
    if df["submissions"].isna().any():
        print("? = your account may see only some submissions of that project (partial permission)")


def cmd_kobo_deploy(args):
    """Create or update a wave's KoboToolbox project from the built XLSForm and roster, deploy it."""
    from .kobo import deploy

    from .config import ROOT

    roster = Path(args.roster)
    template = ROOT / "instruments" / "roster_template.csv"
    if roster.is_file() and template.is_file() and roster.read_bytes() == template.read_bytes():
        raise SinergiError(f"--roster {args.roster}: that is the template's example people; give the "
                           "village's own roster (columns name,label; README, 'Deploying it on KoboToolbox')")
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


# -- parser -----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sinergi", description=__doc__.splitlines()[0])
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
    sp.add_argument("--quiet", action="store_true", help="no progress bars")
    add("tidy", cmd_tidy)
    add("scales", cmd_scales)
    add("network", cmd_network)
    add("prepost", cmd_prepost)
    add("report", cmd_report)

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
            kp.add_argument("--roster", required=True,
                            help="the village roster CSV (name,label): never the template's example people")
            kp.add_argument("--wave", default=None,
                            help="the study's wave this project is for: names the project '<title> — <wave label>' "
                                 "and updates the wave's asset_uid project")
            kp.add_argument("--xlsform", default="instruments/build/sinergi.xlsx")
            kp.add_argument("--asset-uid", default=None, help="update this project instead of creating one")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except SinergiError as exc:
        print(f"sinergi: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sinergi: interrupted; files already written are complete, nothing half-written was kept",
              file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
