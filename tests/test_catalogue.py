"""The report's message catalogues (pipeline/report/locales/{id,en}.yaml)."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from pipeline.report import text as rt

PIPELINE = Path(__file__).resolve().parent.parent / "pipeline"


def _placeholders(value) -> set[str]:
    texts = value if isinstance(value, list) else [value]
    return {f for t in texts for _, f, _, _ in string.Formatter().parse(t) if f}


def test_both_languages_have_the_same_message_ids():
    ids, en = set(rt.STRINGS["id"]), set(rt.STRINGS["en"])
    assert not ids - en, f"only in id.yaml: {sorted(ids - en)}"
    assert not en - ids, f"only in en.yaml: {sorted(en - ids)}"


@pytest.mark.parametrize("key", sorted(rt.STRINGS["en"]))
def test_each_message_has_the_same_placeholders_and_kind_in_both_languages(key):
    a, b = rt.STRINGS["id"][key], rt.STRINGS["en"][key]
    assert type(a) is type(b), f"{key}: a {type(a).__name__} in id.yaml, a {type(b).__name__} in en.yaml"
    if isinstance(a, list):
        assert len(a) == len(b), f"{key}: {len(a)} items in id.yaml, {len(b)} in en.yaml"
    assert _placeholders(a) == _placeholders(b), f"{key}: placeholders differ"
    assert all(t.strip() for t in (a if isinstance(a, list) else [a])), f"{key}: an empty message"


def _literal_keys() -> set[tuple[str, str]]:
    """(file, id) for every message id the code names literally: ctx.t("x"), rep.t("x"), s(lang, "x")."""
    out = set()
    for path in PIPELINE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            arg = None
            if name == "t" and isinstance(f, ast.Attribute):
                arg = node.args[0]
            elif name == "s" and len(node.args) >= 2:
                arg = node.args[1]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                out.add((str(path.relative_to(PIPELINE)), arg.value))
    return out


def test_every_message_id_the_code_names_exists():
    keys = _literal_keys()
    assert len(keys) > 200  # the scan finds the report's calls
    missing = sorted(f"{f}: {k}" for f, k in keys if k not in rt.STRINGS["en"] and not f.startswith("monitor"))
    assert not missing, missing


def test_a_broken_catalogue_is_one_message(tmp_path, monkeypatch):
    from pipeline.errors import SinergiError

    (tmp_path / "id.yaml").write_text("a: 1\na: 2\n", encoding="utf-8")
    monkeypatch.setattr(rt, "LOCALES", tmp_path)
    with pytest.raises(SinergiError, match="id.yaml"):
        rt._catalogue("id")
