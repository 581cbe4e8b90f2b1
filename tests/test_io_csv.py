"""The checked CSV reader (:func:`pipeline.io.read_csv`): its fast route (pyarrow's CSV reader) must
read exactly what its strict route (the ``csv`` module, ``strict=True``) reads — the same values,
line numbers, notes and error messages — for every input, and a tables study must tidy to the same
tables through either."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import io as pio
from pipeline import tidy
from pipeline.sources import tables as table_source
from pipeline.config import load_study
from pipeline.errors import SinergiError
from pipeline.pull import pull
from tests.tablestudy import write_tables_study


def _read(path: Path, **kw):
    """What read_csv gives: ("ok", frame, separator, decimal, notes) or ("error", message, notes)."""
    pio.take_notes()
    try:
        c = pio.read_csv(path, **kw)
    except SinergiError as exc:
        return ("error", str(exc), pio.take_notes())
    return ("ok", c.frame, c.separator, c.decimal, pio.take_notes())


def _same(path: Path) -> tuple:
    fast, strict = _read(path), _read(path, strict=True)
    assert fast[0] == strict[0], (fast, strict)
    if fast[0] == "ok":
        pd.testing.assert_frame_equal(fast[1], strict[1])
        assert fast[2:] == strict[2:]
    else:
        assert fast[1:] == strict[1:]
    return fast


def _write(tmp_path: Path, text: str, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


# -- examples ---------------------------------------------------------------------------------


def test_line_numbers_with_blank_lines_spaces_and_crlf(tmp_path):
    text = "\r\n  \r\nego,alter,weight\r\n\r\nu1 ,u2,1\r\n , ,\r\nu2,u3,\r\n\r\n"
    ok, frame, sep, decimal, notes = _same(_write(tmp_path, text))
    assert frame.index.tolist() == [5, 7] and frame.index.name == "line"
    assert frame["ego"].tolist() == ["u1", "u2"] and frame["weight"].isna().tolist() == [False, True]
    assert notes == [f"{tmp_path / 't.csv'}: removed spaces around 1 value(s) (first: row 5, column ego: 'u1 ')"]


def test_multi_line_quoted_values_keep_the_line_of_each_row(tmp_path):
    text = 'a,b\n"x\ny",1\n\n"p ""q""",2\n'
    _, frame, *_ = _same(_write(tmp_path, text))
    assert frame.index.tolist() == [2, 5] and frame["a"].tolist() == ["x\ny", 'p "q"']


@pytest.mark.parametrize("text, words", [
    ("a,b\n1,2\n3\n", "row 3: 1 values but the header has 2 columns"),
    ("a,b\n1,2\n3,4,5\n", "row 3: 3 values but the header has 2 columns"),
    ('a,b\n1,2\n"3"x,4\n', "row 3: cannot read"),
    ('a,b\n1,2\n"3,4\n', "row 3: cannot read"),
    ("a,a\n1,2\n", "column 'a' appears 2 times"),
    ("a,\n1,2\n", "column 2 has no name in the header but has values (first: row 2)"),
    (",,\n ,\n", "the file is empty"),
    ("sep=;\n", "the file is empty"),
])
def test_errors_are_the_strict_readers(tmp_path, text, words):
    result = _same(_write(tmp_path, text))
    assert result[0] == "error" and words in result[1] and "\n" not in result[1]


def test_empty_line_after_the_sep_line(tmp_path):
    _, frame, *_ = _same(_write(tmp_path, "sep=;\n\na;b\n1;2\n"))
    assert frame.index.tolist() == [4]
    result = _same(_write(tmp_path, "\rsep=;\na\n1\n2;3\n"))  # a lone \r before the sep= line
    assert "row 5: 2 values" in result[1]


def test_semicolon_decimal_commas_and_sep_line(tmp_path):
    text = "sep=;\r\nid;revenue;age\r\nu1;2,5;40\r\nu2;1.500.000;\r\n"
    ok, frame, sep, decimal, notes = _same(_write(tmp_path, text))
    assert (sep, decimal) == (";", ",") and frame.index.tolist() == [3, 4]
    values, bad = pio.read_csv(tmp_path / "t.csv").numbers("revenue")
    assert values.tolist() == [2.5, 1_500_000.0] and not bad.any()


def test_unquoted_file_takes_the_fast_route(tmp_path, monkeypatch):
    """An ordinary file never reaches the strict loop (so a regression to it shows here, not only
    as a slow benchmark)."""
    path = _write(tmp_path, "a;b\n1;2,5\n\n x ;\n")
    monkeypatch.setattr(pio, "_strict_rows", lambda *a, **k: pytest.fail("strict route used"))
    assert pio.read_csv(path).frame.index.tolist() == [2, 4]


def test_nonempty_lines_across_chunks():
    data = b"a,b,c\n,\n\nx,y\n\n\nlast,one"
    for chunk in (1, 2, 3, 5, 1 << 20):
        assert pio.nonempty_lines(data, chunk).tolist() == [0, 1, 3, 6]
        assert pio.nonempty_lines(data + b"\n", chunk).tolist() == [0, 1, 3, 6]


def test_strict_rows_in_chunks(tmp_path):
    text = "a,b\n" + "".join(f"{i},x{i}\n" for i in range(10))
    full = pio._strict_rows(text, ",", tmp_path)
    pd.testing.assert_frame_equal(pio._strict_rows(text, ",", tmp_path, chunk=3), full)
    assert full.index.tolist() == list(range(1, 12))


def test_numbers_reads_each_cell_like_python():
    frame = pd.DataFrame({"v": pd.array(["1", "1", None, "２", "1e999", "Rp 5", "-0.5"], dtype="str")})
    values, bad = pio.CsvFile(frame, Path("x.csv"), ",", ".").numbers("v")
    assert values.iloc[[0, 1, 3, 6]].tolist() == [1.0, 1.0, 2.0, -0.5]  # float() reads the full-width digit
    assert bad.tolist() == [False, False, False, False, True, True, False]


# -- any text ---------------------------------------------------------------------------------

_CELLS = ["1", "2", "3.5", "2,5", "1.500", "", " ", " x ", "abc", "é", "Rp 5", '"q,1"', '"a""b"',
          '"two\nlines"', '"x"y', "inf", "a\"b"]


@st.composite
def _csv_texts(draw):
    sep = draw(st.sampled_from([",", ";", "\t"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    width = draw(st.integers(1, 4))
    header = [draw(st.sampled_from(["a", "b", "c", " d ", ""])) for _ in range(width)]
    lines = [sep.join(header)]
    if draw(st.booleans()):
        lines.insert(0, draw(st.sampled_from(["", "  ", f"sep={sep}", f"\rsep={sep}", f"\r\n\rsep={sep}"])))
    for _ in range(draw(st.integers(0, 6))):
        n = draw(st.sampled_from([width] * 6 + [0, width - 1, width + 1]))
        lines.append(sep.join(draw(st.sampled_from(_CELLS)) for _ in range(n)))
    return newline.join(lines) + draw(st.sampled_from(["", newline, newline * 2]))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_csv_texts())
def test_fast_route_reads_what_the_strict_route_reads(tmp_path, text):
    _same(_write(tmp_path, text))


# -- a whole tables study ---------------------------------------------------------------------


def _quote_some(data: Path) -> None:
    """respondents.csv with a quoted site name holding the separator (the strict route)."""
    df = pd.read_csv(data / "respondents.csv", dtype=str, keep_default_na=False)
    df["site"] = np.where(np.arange(len(df)) % 2, "Desa Uji, Utara", "Desa Uji")
    df.to_csv(data / "respondents.csv", index=False)


def _semicolons_crlf_blank_lines(data: Path) -> None:
    """Every file ';'-separated with CRLF, spaces and blank lines; revenue with decimal commas."""
    for name in ("respondents.csv", "responses.csv", "ties.csv", "scales.csv"):
        df = pd.read_csv(data / name, dtype=str, keep_default_na=False)
        if "revenue" in df:
            df["revenue"] = df["revenue"].str.replace(r"000$", ",5", regex=True)
        text = df.to_csv(index=False, sep=";").replace("\n", "\r\n")
        text = text.replace("\r\n", "\r\n\r\n", 3).replace(";pre;", "; pre ;", 5)
        (data / name).write_bytes(text.encode())


@pytest.mark.parametrize("mutate", [None, _quote_some, _semicolons_crlf_blank_lines])
def test_tables_study_tidies_the_same_through_either_route(in_tmp, monkeypatch, mutate):
    path = write_tables_study(in_tmp, sites=2)
    if mutate:
        mutate(in_tmp / "data")
    study = load_study(path)
    pull(study, local_only=True, progress=False)
    pio.take_notes()
    fast = tidy.tidy_tables(study, study.raw_dir)
    fast_notes = pio.take_notes()
    monkeypatch.setattr(table_source, "read_csv", functools.partial(pio.read_csv, strict=True))
    strict = tidy.tidy_tables(study, study.raw_dir)
    assert pio.take_notes() == fast_notes
    assert fast.keys() == strict.keys()
    for name in fast:
        pd.testing.assert_frame_equal(fast[name], strict[name], obj=name)
    assert len(fast["ties"]) > 0 and fast["respondents"]["site"].nunique() >= 2
