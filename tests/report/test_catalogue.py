"""The report's message catalogues (pipeline/report/locales/{id,en}.yaml)."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from pipeline.errors import SinergiError
from pipeline.report import text as rt
from pipeline.tidy import SCREENING_ACTIONS

PIPELINE = Path(__file__).resolve().parents[2] / "pipeline"


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
    """(file, id) for every message id the code names literally: words.text("x"), words.study_text("x"),
    the header of a declared column Column(source, "x", …), s(lang, "x")."""
    out = set()
    for path in PIPELINE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            arg = None
            if name in ("t", "text", "study_text") and isinstance(f, ast.Attribute):
                arg = node.args[0]
            elif name == "s" and len(node.args) >= 2:
                arg = node.args[1]
            elif name == "Column" and len(node.args) >= 2 and not any(k.arg == "verbatim" for k in node.keywords):
                arg = node.args[1]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                out.add((str(path.relative_to(PIPELINE)), arg.value))
    return out


def test_every_message_id_the_code_names_exists():
    keys = _literal_keys()
    assert len(keys) > 200  # the scan finds the report's calls
    assert ("report/sections/network.py", "c_density") in keys  # and the declared columns' headers
    missing = sorted(f"{f}: {k}" for f, k in keys if k not in rt.STRINGS["en"] and not f.startswith("monitor"))
    assert not missing, missing


def test_a_broken_catalogue_is_one_message(tmp_path, monkeypatch):
    from pipeline.errors import SinergiError

    (tmp_path / "id.yaml").write_text("a: 1\na: 2\n", encoding="utf-8")
    monkeypatch.setattr(rt, "LOCALES", tmp_path)
    with pytest.raises(SinergiError, match="id.yaml"):
        rt._catalogue("id")


# -- codes the stages write ------------------------------------------------------------------------


def _module_strings(tree: ast.Module) -> dict[str, str]:
    """Module-level NAME = "text" assignments (e.g. kobo_files.UNKNOWN_COLUMN)."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            out.update({t.id: node.value.value for t in node.targets if isinstance(t, ast.Name)})
    return out


#: tidy's rows for the submissions the screening leaves out: issue = the screening's reason, action from
#: ``tidy.SCREENING_ACTIONS`` (reasons tidy stops on instead have no action there and no row)
SCREENING_ARGS = {"d.reason": set(SCREENING_ACTIONS), "SCREENING_ACTIONS[d.reason]": set(SCREENING_ACTIONS.values())}


def _quality_codes() -> tuple[set[str], set[str], list[str]]:
    """(issues, actions, problems): every issue and action code a call of ``quality_row`` (or of
    kobo_files' ``_note(issue, field, value, action)``, tidy's ``_tie_quality``) in pipeline/ can write, read from the code
    itself; ``problems`` lists arguments that are not literal codes (or a parameter passed through)."""
    issues: set[str] = set()
    actions: set[str] = set()
    problems: list[str] = []
    def visit(node: ast.AST, params: set[str], path: Path, consts: dict[str, str]) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            params = {a.arg for a in node.args.args + node.args.kwonlyargs}
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            where = {"quality_row": (0, 1), "_note": (0, 3), "_tie_quality": (4, 5)}.get(name)
            if where is not None and len(node.args) > max(where):
                for pos, bucket in zip(where, (issues, actions)):
                    stack = [node.args[pos]]
                    while stack:
                        arg = stack.pop()
                        if isinstance(arg, ast.IfExp):
                            stack += [arg.body, arg.orelse]
                        elif isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                            bucket.add(arg.value)
                        elif isinstance(arg, ast.Name) and arg.id in consts:
                            bucket.add(consts[arg.id])
                        elif ast.unparse(arg) in SCREENING_ARGS:
                            bucket.update(SCREENING_ARGS[ast.unparse(arg)])
                        elif not (isinstance(arg, ast.Name) and arg.id in params):
                            problems.append(f"{path.relative_to(PIPELINE)}:{node.lineno}: {ast.unparse(arg)}")
        for child in ast.iter_child_nodes(node):
            visit(child, params, path, consts)

    for path in PIPELINE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        visit(tree, set(), path, _module_strings(tree))
    return issues, actions, problems


def test_every_quality_code_the_stages_write_is_registered_and_has_a_message_in_both_languages():
    from pipeline.schemas import QUALITY_ACTIONS, QUALITY_ISSUES

    issues, actions, problems = _quality_codes()
    assert len(issues) >= 15 and len(actions) >= 10  # the scan finds tidy's and kobo_files' rows
    assert not problems, f"quality codes must be literal (or a parameter passed on): {problems}"
    assert issues == set(QUALITY_ISSUES), (sorted(issues - set(QUALITY_ISSUES)), sorted(set(QUALITY_ISSUES) - issues))
    assert actions == set(QUALITY_ACTIONS), (sorted(actions - set(QUALITY_ACTIONS)),
                                             sorted(set(QUALITY_ACTIONS) - actions))
    for lang in rt.LANGUAGES:
        for prefix, codes in (("issue", issues), ("action", actions)):
            for code in codes:
                key = f"{prefix}_{code}"
                assert key in rt.STRINGS[lang], f"{lang}.yaml has no message {key}"
                # one message per code: the report's quality table groups rows by code, not by details
                assert not _placeholders(rt.STRINGS[lang][key]), f"{lang}.yaml {key} takes parameters"


def test_no_stage_builds_a_quality_row_by_hand():
    """Every quality row goes through schemas.quality_row (which refuses an unknown code)."""
    found = []
    for path in PIPELINE.rglob("*.py"):
        if path.name == "schemas.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict) and any(isinstance(k, ast.Constant) and k.value in ("issue", "action")
                                                  for k in node.keys):
                found.append(f"{path.relative_to(PIPELINE)}:{node.lineno}")
    assert not found, found


def test_a_quality_row_round_trips_through_its_schema_and_the_report():
    import pandas as pd

    from pipeline import schemas

    row = schemas.quality_row("duplicate_upload", "kept_later", wave="post", submission_id=7, field="meta/instanceID",
                              value="uuid:x", kept=9)
    df = schemas.validate("quality", pd.DataFrame([row], columns=schemas.QUALITY_COLUMNS))
    assert schemas.quality_detail(df.loc[0, "detail"]) == {"kept": "9"}
    assert rt.issue_label(df.loc[0, "issue"], "id") == "unggahan ganda (meta/instanceID sama)"
    assert rt.action_label(df.loc[0, "action"], "en") == "kept the later submission"
    with pytest.raises(ValueError, match="not a code"):
        schemas.quality_row("kept the later _id 9", "kept_later")
    bad = pd.DataFrame([{**row, "action": "kept the later _id 9"}], columns=schemas.QUALITY_COLUMNS)
    with pytest.raises(SinergiError, match="column action has a value that is not one of its codes"):
        schemas.validate("quality", bad)


def test_method_and_note_codes_have_messages_in_both_languages():
    from pipeline.analysis.prepost import COLLECTIVE_NOTES, METHODS

    for lang in rt.LANGUAGES:
        for key in [f"method_{m}" for m in METHODS] + [f"coll_note_{n}" for n in COLLECTIVE_NOTES]:
            assert key in rt.STRINGS[lang], f"{lang}.yaml has no message {key}"


def test_invariance_note_codes_have_messages_in_both_languages():
    from pipeline.analysis.invariance import NOTES

    for lang in rt.LANGUAGES:
        for code in NOTES:
            assert f"inv_note_{code}" in rt.STRINGS[lang], f"{lang}.yaml has no message inv_note_{code}"
