"""The roster carried to the next wave: stable ids, baseline first, leavers kept, newcomers appended."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.errors import SinergiError
from pipeline.roster import check_roster, next_roster, read_roster_csv, roster_csv_bytes


def _prev():
    return pd.DataFrame({"name": ["u001", "u002", "u003", "u004", "u005"],
                         "label": ["Ibu Sari — warung", "Pak Budi — bengkel", "Nur — katering, kue",
                                   "Eko — es teh", "Titin — batik"]})


def test_next_roster_orders_baseline_first_then_listed_then_leavers_then_newcomers():
    new = pd.DataFrame({"label": ["Rina — jahit", "Joko — sayur"]})
    out = next_roster(_prev(), baseline=["u004", "u002"], leavers=["u001"], newcomers=new, language="id")
    assert out["name"].tolist() == ["u002", "u004", "u003", "u005", "u001", "u006", "u007"]
    assert out["status"].tolist() == ["baseline", "baseline", "listed", "listed", "left", "new", "new"]
    assert out.loc[out["name"] == "u001", "label"].item() == "Ibu Sari — warung (tidak aktif lagi)"
    # everyone else keeps label and id exactly
    kept = out.set_index("name").loc[["u002", "u003", "u004", "u005"], "label"]
    assert kept.tolist() == ["Pak Budi — bengkel", "Nur — katering, kue", "Eko — es teh", "Titin — batik"]


def test_a_leaver_stays_marked_once_across_waves_and_newcomer_ids_never_reuse_a_used_one():
    wave2 = next_roster(_prev(), leavers=["u003"], language="en")
    wave3 = next_roster(wave2, newcomers=pd.DataFrame({"label": ["Dodi"]}), used_ids=["u009"], language="en")
    left = wave3.set_index("name").loc["u003"]
    assert (left["status"], left["label"]) == ("left", "Nur — katering, kue (no longer active)")
    assert wave3["name"].tolist()[-1] == "u010"  # u009 was used in an earlier roster


def test_newcomer_with_an_id_already_used_is_refused_naming_the_row():
    new = pd.DataFrame({"name": ["u002"], "label": ["Someone"]}, index=[3])
    with pytest.raises(SinergiError, match=r"newcomers.csv: row 3, column name: id 'u002' was already used"):
        next_roster(_prev(), newcomers=new, where="newcomers.csv")


def test_unknown_leaver_and_ids_without_a_pattern_are_refused():
    with pytest.raises(SinergiError, match="leaver id 'u099' is not on the previous roster"):
        next_roster(_prev(), leavers=["u099"])
    odd = pd.DataFrame({"name": ["sari", "budi"], "label": ["Sari", "Budi"]})
    with pytest.raises(SinergiError, match="do not follow one pattern"):
        next_roster(odd, newcomers=pd.DataFrame({"label": ["Eko"]}))
    # with their own ids they are fine
    ok = next_roster(odd, newcomers=pd.DataFrame({"name": ["eko"], "label": ["Eko"]}))
    assert ok["name"].tolist() == ["sari", "budi", "eko"]


@pytest.mark.parametrize("name,label,why", [
    ("u 01", "Sari", "is not a roster id"),
    ("u001", "", "column label: empty"),
    ("u001", "Contoh: Siti Aminah — warung sembako", "template's example people"),
])
def test_check_roster_refuses_bad_rows(name, label, why):
    with pytest.raises(SinergiError, match=why):
        check_roster(pd.DataFrame({"name": [name], "label": [label]}, index=[2]), "roster.csv")


def test_template_file_is_refused_and_a_real_file_reads(root, tmp_path):
    with pytest.raises(SinergiError, match="row 2: 'Contoh: Siti Aminah"):
        read_roster_csv(root / "instruments" / "roster_template.csv")
    path = tmp_path / "roster.csv"
    path.write_bytes(roster_csv_bytes(next_roster(_prev())))
    back = read_roster_csv(path)
    assert back["label"].tolist()[2] == "Nur — katering, kue"  # a comma inside a label survives
    dup = tmp_path / "dup.csv"
    dup.write_text("name,label\nu001,A\nu001,B\n")
    with pytest.raises(SinergiError, match=r"dup.csv: rows 2 and 3: name 'u001' is used twice"):
        read_roster_csv(dup)
