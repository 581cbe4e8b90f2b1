"""Private by default: the pseudonym key, its fingerprint, personal columns held back in raw, and
no planted name or phone number in any output format."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import tree
from tests.tablestudy import write_tables_study

STAGES = ("pull", "tidy", "scales", "network", "prepost", "report")
NAME, PHONE, EMAIL = "Siti Nurhaliza Rahayu", "081234567890", "siti.rahayu@example.com"


def _plant(study: Path, **extra) -> None:
    """Add personal columns to the study's respondents.csv (one value per person)."""
    path = study.parent / "data" / "respondents.csv"
    df = pd.read_csv(path, dtype=str)
    n = df["respondent_id"].str[-2:].astype(int)
    df["nama"] = [NAME if i == 0 else f"Budi Santoso {i}" for i in n]
    df["no_hp"] = [PHONE if i == 0 else f"0813{i:08d}" for i in n]
    df["kontak"] = [EMAIL if i == 0 else f"orang{i}@example.com" for i in n]
    df["cerita"] = [f"jualan gorengan di pasar pagi sejak tahun {2000 + i}" for i in n]
    for col, values in extra.items():
        df[col] = values
    df.to_csv(path, index=False)


def _set(study: Path, **keys) -> None:
    doc = yaml.safe_load(study.read_text())
    doc.update(keys)
    study.write_text(yaml.safe_dump(doc))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- the key ----------------------------------------------------------------------------------

def test_new_key_is_owner_only_and_its_fingerprint_is_recorded(in_tmp, sinergi):
    study = write_tables_study(in_tmp)
    code, out, err = sinergi("pull", "--study", study)
    assert code == 0, err
    raw = in_tmp / "data" / "raw" / "tables-test"
    key = raw / "pseudonym.key"
    assert _mode(key) == 0o600
    assert "back it up" in out
    manifest = json.loads((raw / "manifest.json").read_text())
    fp = manifest["key_fingerprint"]
    assert len(fp) == 16 and fp not in key.read_text()
    code, out, err = sinergi("tidy", "--study", study)
    assert code == 0, err
    resp = pd.read_parquet(in_tmp / "data" / "processed" / "tables-test" / "respondents.parquet")
    assert resp.attrs["key_fingerprint"] == fp


def test_a_world_readable_key_is_tightened_and_said_so(in_tmp, sinergi):
    study = write_tables_study(in_tmp)
    raw = in_tmp / "data" / "raw" / "tables-test"
    raw.mkdir(parents=True)
    key = raw / "pseudonym.key"
    key.write_text("ab" * 32 + "\n")
    key.chmod(0o644)
    code, out, err = sinergi("pull", "--study", study)
    assert code == 0, err
    assert _mode(key) == 0o600
    assert "pseudonym.key: was readable by others (0644); now owner-only (0600)" in out
    assert key.read_text() == "ab" * 32 + "\n"  # tightened, not replaced


def test_tidy_tightens_a_readable_key_too(in_tmp, sinergi):
    """`make report` pulls only when raw data is missing, so tidy tightens an old 0644 key as well."""
    study = write_tables_study(in_tmp)
    assert sinergi("pull", "--study", study)[0] == 0
    key = in_tmp / "data" / "raw" / "tables-test" / "pseudonym.key"
    key.chmod(0o644)
    code, out, err = sinergi("tidy", "--study", study)
    assert code == 0 and "now owner-only (0600)" in out and _mode(key) == 0o600


def test_a_key_deleted_between_waves_is_refused(in_tmp, sinergi):
    study = write_tables_study(in_tmp)
    for stage in ("pull", "tidy"):
        assert sinergi(stage, "--study", study)[0] == 0
    raw = in_tmp / "data" / "raw" / "tables-test"
    (raw / "pseudonym.key").unlink()
    before = tree(raw)
    for stage in ("pull", "tidy"):
        code, out, err = sinergi(stage, "--study", study)
        assert code == 2
        assert err.count("\n") == 1 and "Traceback" not in err
        assert "pseudonym.key" in err and "backup" in err and "new pseudonym" in err
    assert tree(raw) == before  # no new key was made, nothing rewritten


def test_another_key_is_refused_against_the_manifest_and_the_processed_tables(in_tmp, sinergi):
    import shutil

    study = write_tables_study(in_tmp)
    for stage in ("pull", "tidy"):
        assert sinergi(stage, "--study", study)[0] == 0
    raw = in_tmp / "data" / "raw" / "tables-test"
    proc = in_tmp / "data" / "processed" / "tables-test"
    (raw / "pseudonym.key").write_text("cd" * 32 + "\n")  # a key from somewhere else
    code, out, err = sinergi("pull", "--study", study)
    assert code == 2 and "not the pseudonym key of the data in" in err and "manifest.json" in err
    # the raw folder deleted and pulled again: a new key, but the processed tables know the old one
    processed_before = tree(proc)
    shutil.rmtree(raw)
    assert sinergi("pull", "--study", study)[0] == 0
    code, out, err = sinergi("tidy", "--study", study)
    assert code == 2 and "respondents.parquet" in err and "Restore" in err
    assert tree(proc) == processed_before


# -- personal columns -------------------------------------------------------------------------

def test_personal_columns_stay_in_raw_unless_kept(in_tmp, sinergi):
    study = write_tables_study(in_tmp)
    _plant(study)
    for stage in ("pull", "tidy"):
        code, out, err = sinergi(stage, "--study", study)
        assert code == 0, err
    proc = in_tmp / "data" / "processed" / "tables-test"
    resp = pd.read_parquet(proc / "respondents.parquet")
    assert not {"nama", "no_hp", "kontak", "cerita"} & set(resp.columns)
    assert {"forum_meetings", "revenue"} <= set(resp.columns)  # ordinary covariates pass
    q = pd.read_csv(proc / "quality.csv")
    held = q[q["issue"] == "column_personal"]
    assert sorted(held["field"]) == [f"respondents.csv: {c}" for c in ("cerita", "kontak", "nama", "no_hp")]
    assert not q.astype(str).apply(lambda c: c.str.contains(NAME)).any().any()
    # the study may keep one on purpose
    _set(study, privacy={"keep_columns": ["cerita"]})
    assert sinergi("tidy", "--study", study)[0] == 0
    resp = pd.read_parquet(proc / "respondents.parquet")
    assert "cerita" in resp.columns and "nama" not in resp.columns


def test_personal_columns_found_by_content(in_tmp, sinergi):
    study = write_tables_study(in_tmp)
    path = study.parent / "data" / "respondents.csv"
    df = pd.read_csv(path, dtype=str)
    df["x1"] = PHONE
    df["x2"] = EMAIL
    df["x3"] = "(021) 555-1234"
    df["sector"] = ["kuliner" if i % 2 else "jasa" for i in range(len(df))]
    df["digital_channels_whatsapp"] = [str(i % 2) for i in range(len(df))]  # a 0/1 flag, not a number
    df["share"] = "0.1234567890"
    df.to_csv(path, index=False)
    for stage in ("pull", "tidy"):
        assert sinergi(stage, "--study", study)[0] == 0
    resp = pd.read_parquet(in_tmp / "data" / "processed" / "tables-test" / "respondents.parquet")
    assert not {"x1", "x2", "x3"} & set(resp.columns)
    assert {"sector", "digital_channels_whatsapp", "share", "revenue"} <= set(resp.columns)


def test_docstring_examples():
    import doctest

    import pipeline.tidy

    assert doctest.testmod(pipeline.tidy).failed == 0


def test_keep_columns_is_checked(in_tmp, sinergi):
    study = write_tables_study(in_tmp)
    _set(study, privacy={"keep_columns": "nama"})
    code, out, err = sinergi("pull", "--study", study)
    assert code == 2 and "privacy.keep_columns" in err and err.count("\n") == 1
    _set(study, privacy={"keep_columns": ["namaa"]})
    for stage in ("pull", "tidy"):
        code, out, err = sinergi(stage, "--study", study)
    assert code == 2 and "'namaa' is not a column of" in err and "respondents.csv" in err


# -- every output format ----------------------------------------------------------------------

def _texts(path: Path) -> list[bytes]:
    """The bytes of a file, and the text inside it for formats that pack or compress it."""
    data = path.read_bytes()
    out = [data]
    if path.suffix in (".docx", ".xlsx"):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            out += [z.read(n) for n in z.namelist()]
    elif path.suffix == ".parquet":
        out.append(pd.read_parquet(path).to_csv().encode())
    elif path.suffix in (".sav", ".dta"):
        import pyreadstat

        read = pyreadstat.read_sav if path.suffix == ".sav" else pyreadstat.read_dta
        df, meta = read(str(path))
        out.append((df.to_csv() + repr(meta.column_names_to_labels) + repr(meta.variable_value_labels)).encode())
    return out


@pytest.mark.slow
def test_no_planted_name_or_phone_in_any_output(in_tmp, sinergi):
    study = write_tables_study(in_tmp)
    _plant(study)
    for stage in STAGES:
        code, out, err = sinergi(stage, "--study", study)
        assert code == 0, f"{stage}: {err}"
        assert NAME not in out + err and PHONE not in out + err
    files = [p for folder in (in_tmp / "data" / "processed" / "tables-test", in_tmp / "reports" / "tables-test")
             for p in sorted(folder.rglob("*")) if p.is_file()]
    suffixes = {p.suffix for p in files}
    assert {".parquet", ".csv", ".xlsx", ".sav", ".dta", ".graphml", ".gexf", ".html", ".docx", ".svg"} <= suffixes
    for path in files:
        for blob in _texts(path):
            for secret in (NAME, PHONE, EMAIL, "Budi Santoso", "person0"):
                assert secret.encode() not in blob, f"{secret!r} in {path}"
    fp = json.loads((in_tmp / "data" / "raw" / "tables-test" / "manifest.json").read_text())["key_fingerprint"]
    assert fp in (in_tmp / "reports" / "tables-test" / "report.html").read_text()  # named in the colophon
    raw = (in_tmp / "data" / "raw" / "tables-test" / "tables" / "respondents.csv").read_text()
    assert NAME in raw and PHONE in raw  # it is still in raw, untouched


def test_a_pseudonym_collision_names_the_two_ids_and_the_way_out():
    from pipeline.errors import SinergiError
    from pipeline.pseudonym import check_collisions

    with pytest.raises(SinergiError, match=r"'u001' and 'u002' get the same pseudonym R1234567 .*echo 16 >"):
        check_collisions({"u001": "R1234567", "u002": "R1234567"})


def test_keep_columns_outside_a_tables_study_is_refused(root, in_tmp, sinergi):
    doc = yaml.safe_load((root / "study.yaml").read_text())
    doc.update(id="demo-keep", instrument=str(root / "instruments" / "sinergi.yaml"),
               privacy={"keep_columns": ["nama"]})
    (in_tmp / "study.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True))
    assert sinergi("pull", "--study", "study.yaml", "--quiet")[0] == 0
    code, out, err = sinergi("tidy", "--study", "study.yaml")
    assert code == 2 and "privacy.keep_columns: only for source kind 'tables'" in err
