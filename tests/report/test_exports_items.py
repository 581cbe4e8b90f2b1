"""The score exports' frame built from codes and batches (exports.wide_scores / with_items, read
through report.inputs.Inputs) is the frame the pivot tables of the whole study gave: the same
columns in the same order, dtypes, values, variable and value labels, and the same .sav/.dta bytes.

The reference below is the code the exports had before (pandas ``pivot_table`` of every score and
every answer, merged on respondent × wave). The study is small but has what a pivot treats
specially: a respondent × wave answering an item twice (first missing, then given), answers and
scores of respondent × waves not in the respondents table, items not in the scale map, an item of
the map nobody answered, a reverse-coded item, repeated and non-"any" rows in the network table,
missing values everywhere, and text columns read as categoricals (codes) in several batches."""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.report import exports, inputs
from pipeline.report.exports import safe_name, wide_scores, with_items, write_spss_stata
from pipeline.report.inputs import Inputs
from pipeline.report.labels import Labels
from pipeline.report.text import s

WAVES = ["pre", "post"]


def _study():
    return types.SimpleNamespace(wave_ids=WAVES, group_values=["lokal", "pendatang"],
                                 wave_label=lambda w, lang: {"pre": "Before", "post": "After"}[w],
                                 group_label=lambda g, lang: g.title(),
                                 group=types.SimpleNamespace(variable="origin"))


def tables(seed: int = 5, villages: int = 4, people: int = 9):
    """(respondents, scores, nodes, responses, scale_map) of a small district."""
    rng = np.random.default_rng(seed)
    resp = []
    for v in range(villages):
        for p in range(people):
            for w in WAVES:
                if rng.random() < 0.15:
                    continue  # attrition
                resp.append({"respondent_id": f"R{v}{p:02d}", "wave": w, "group": ["lokal", "pendatang"][p % 2],
                             "site": f"desa{v}", "age": float(rng.integers(18, 70)) if rng.random() > 0.1 else np.nan})
    resp = pd.DataFrame(resp)
    sm = pd.DataFrame({"item": ["t1", "t2", "t3", "n1", "n2", "never"],
                       "dimension": ["trust", "trust", "trust", "norms", "norms", "norms"],
                       "subscale": ["a", "a", "b", "a", "a", "a"], "reverse": [False, True, False, False, True, False],
                       "min": [1, 1, 1, 1, 1, 1], "max": [5, 5, 5, 4, 4, 4]})
    answers = []
    for r in resp.itertuples():
        for item in ["t2", "t1", "n1", "t3", "n2", "other"]:  # not the map's order; "other" is not in it
            value = float(rng.integers(1, 5)) if rng.random() > 0.12 else np.nan
            answers.append((r.respondent_id, r.wave, item, value))
            if rng.random() < 0.05:  # answered twice: the pivot's "first" takes the first value not missing
                answers.append((r.respondent_id, r.wave, item, float(rng.integers(1, 5))))
    answers += [("R999", "pre", "t1", 3.0), ("R000", "mid", "t1", 2.0)]  # not in the respondents table
    responses = pd.DataFrame(answers, columns=["respondent_id", "wave", "item", "value"])
    scores = []
    for r in resp.itertuples():
        for d in ["norms", "trust", "trust_a"]:
            scores.append({"respondent_id": r.respondent_id, "wave": r.wave, "group": r.group, "site": r.site,
                           "dimension": d, "score": rng.normal(3, 0.6) if rng.random() > 0.1 else np.nan})
    scores.append({"respondent_id": "R999", "wave": "pre", "group": "lokal", "site": "desa0", "dimension": "trust",
                   "score": 2.0})
    scores = pd.DataFrame(scores)
    nodes = []
    for r in resp.itertuples():
        for t in ["info", "any", "any"]:  # a repeated row: the first counts
            nodes.append({"respondent_id": r.respondent_id, "site": r.site, "wave": r.wave, "tie_type": t,
                          "degree": float(rng.integers(0, 9)), "bridging": float(rng.integers(0, 4)),
                          "ei": rng.uniform(-1, 1) if rng.random() > 0.2 else np.nan})
    return resp, scores, pd.DataFrame(nodes), responses, sm


# -- the reference: the pivot tables of the whole study (the exports' code before) ---------------------

def _pivot_with_scores(df, scores, lang, labels_of):
    labels = {}
    if scores is None or not len(scores):
        return df, labels
    sc = scores.assign(respondent_id=scores["respondent_id"].astype(str), wave=scores["wave"].astype(str))
    wide = sc.pivot_table(index=["respondent_id", "wave"], columns="dimension", values="score",
                          aggfunc="first", dropna=False)
    order = list(pd.unique(sc["dimension"]))
    wide = wide.reindex(columns=order).reset_index()
    df = df.merge(wide, on=["respondent_id", "wave"], how="left")
    for d in order:
        labels[safe_name(d)] = s(lang, "lab_score", dim=labels_of.dim(d))[:80]
    return df, labels


def _pivot_with_network(df, nodes):
    if nodes is None or not len(nodes) or "tie_type" not in nodes:
        return df
    nd = nodes[nodes["tie_type"].astype(str) == "any"]
    cols = [c for c in ("degree", "bridging", "ei") if c in nd.columns]
    nd = nd.assign(respondent_id=nd["respondent_id"].astype(str), wave=nd["wave"].astype(str))
    nd = nd.drop_duplicates(["respondent_id", "wave"])[["respondent_id", "wave", *cols]]
    nd = nd.rename(columns={c: f"net_{c}" for c in cols})
    return df.merge(nd, on=["respondent_id", "wave"], how="left")


def _pivot_items(df, labels, responses, scale_map, study, lang, names, values):
    names = names or Labels(None, lang, scale_map)
    sm = scale_map.drop_duplicates("item").set_index("item")
    code = {w: float(i) for i, w in enumerate(study.wave_ids, start=1)}
    r = responses.assign(respondent_id=responses["respondent_id"].astype(str),
                         wave=responses["wave"].astype(str).map(code))
    wide = r.pivot_table(index=["respondent_id", "wave"], columns="item", values="value", aggfunc="first",
                         dropna=False)
    cols = {}
    for item in (i for i in sm.index if i in wide.columns):
        x = wide[item].astype("float64")
        rev = bool(sm.loc[item, "reverse"])
        name = safe_name(item)
        cols[name] = (float(sm.loc[item, "min"]) + float(sm.loc[item, "max"]) - x) if rev else x
        labels[name] = s(lang, "lab_item_reversed" if rev else "lab_item", item=item,
                         dim=names.dim(str(sm.loc[item, "dimension"])))[:80]
        if rev:
            cols[safe_name(f"{item}_raw")] = x
            labels[safe_name(f"{item}_raw")] = s(lang, "lab_item_raw", item=item)[:80]
    items = pd.DataFrame(cols, index=wide.index).reset_index()
    return df.merge(items, on=["respondent_id", "wave"], how="left"), list(cols)


def reference(monkeypatch, resp, scores, nodes, responses, sm):
    with monkeypatch.context() as m:
        m.setattr(exports, "_with_scores", lambda *a: (*_pivot_with_scores(*a), ["norms", "trust", "trust_a"]))
        m.setattr(exports, "_with_network", _pivot_with_network)
        df, labels, values = wide_scores(resp, scores, nodes, _study(), "en")
    df, items = _pivot_items(df, labels, responses, sm, _study(), "en", Labels(None, "en", sm), values)
    return df, labels, values, items


def built(resp, scores, nodes, responses, sm):
    df, labels, values = wide_scores(resp, scores, nodes, _study(), "en")
    assert df.attrs.pop("dimensions") == ["norms", "trust", "trust_a"]  # the order they first appear in
    df, items = with_items(df, labels, responses, sm, _study(), "en", Labels(None, "en", sm), values)
    return df, labels, values, items


def _same(got, want, tmp_path):
    (df, labels, values, items), (rdf, rlabels, rvalues, ritems) = got, want
    rdf.attrs.clear()
    pd.testing.assert_frame_equal(df, rdf, check_exact=True)
    assert (labels, values, items) == (rlabels, rvalues, ritems)
    assert [c for c in df.columns if c in items] == ["t1", "t2", "t2_raw", "t3", "n1", "n2", "n2_raw"]
    for name, (frame, labs, vals) in {"new": (df, labels, values), "pivot": (rdf, rlabels, rvalues)}.items():
        write_spss_stata(frame, labs, vals, tmp_path / name)
    for ext in ("sav", "dta"):
        assert (tmp_path / "new" / f"scores.{ext}").read_bytes() == (tmp_path / "pivot" / f"scores.{ext}").read_bytes()


def test_frames_in_memory_are_the_pivot_tables(monkeypatch, tmp_path):
    t = tables()
    want = reference(monkeypatch, *t)
    assert want[0]["t1"].notna().sum() > 50 and want[0]["net_degree"].notna().sum() > 50
    _same(built(*t), want, tmp_path)


def test_codes_in_batches_are_the_pivot_tables(monkeypatch, tmp_path):
    resp, scores, nodes, responses, sm = tables(seed=11)
    want = reference(monkeypatch, resp, scores, nodes, responses, sm)
    cat = lambda df: df.astype({c: "category" for c in df.columns if df[c].dtype == object or  # noqa: E731
                                pd.api.types.is_string_dtype(df[c])})
    parts = [cat(responses.iloc[i:i + 60]) for i in range(0, len(responses), 60)]  # each batch its own categories
    _same(built(resp, cat(scores), cat(nodes), parts, sm), want, tmp_path)


def test_read_from_files_in_row_group_batches(monkeypatch, tmp_path):
    """Inputs.read: responses.parquet one row group per village, read in batches of a few row
    groups; scores.csv and network_nodes.csv as Arrow dictionary codes."""
    resp, scores, nodes, responses, sm = tables(seed=23)
    folder = tmp_path / "processed"
    folder.mkdir()
    site = dict(zip(zip(resp["respondent_id"], resp["wave"]), resp["site"]))
    by_site = responses.assign(site=[site.get(k, "desa0") for k in zip(responses["respondent_id"], responses["wave"])])
    with pq.ParquetWriter(folder / "responses.parquet", pa.Schema.from_pandas(responses, preserve_index=False)) as w:
        for _, part in by_site.groupby("site", sort=False):
            w.write_table(pa.Table.from_pandas(part[responses.columns], preserve_index=False))
    order = pd.concat([part for _, part in by_site.groupby("site", sort=False)])[responses.columns]
    scores.to_csv(folder / "scores.csv", index=False)
    nodes.to_csv(folder / "network_nodes.csv", index=False)
    monkeypatch.setattr(inputs, "BATCH_ROWS", 150)
    monkeypatch.setattr(exports, "CHUNK_ROWS", 100)
    want = reference(monkeypatch, resp, pd.read_csv(folder / "scores.csv", dtype={"respondent_id": str}),
                     pd.read_csv(folder / "network_nodes.csv", dtype={"respondent_id": str}),
                     order.reset_index(drop=True), sm)
    ins = Inputs.read(folder)
    parts = list(ins.batches("responses.parquet", ["respondent_id", "wave", "item", "value"]))
    assert len(parts) > 2 and isinstance(parts[0]["item"].dtype, pd.CategoricalDtype)
    monkeypatch.setattr(inputs, "CSV_BLOCK", 1500)
    scores_parts = list(ins.csv_batches("scores.csv", ["respondent_id", "wave", "dimension", "score"]))
    nodes_parts = ins.csv_batches("network_nodes.csv",
                                  ["respondent_id", "wave", "tie_type", "degree", "bridging", "ei"])
    assert len(scores_parts) > 5 and isinstance(scores_parts[0]["respondent_id"].dtype, pd.CategoricalDtype)
    got = built(resp, iter(scores_parts), nodes_parts, iter(parts), sm)
    _same(got, want, tmp_path)
    compact = ins.compact("scores.csv", ["respondent_id", "wave", "group", "site", "dimension", "score"])
    _same(built(resp, compact, ins.compact("network_nodes.csv", ["respondent_id", "wave", "tie_type", "degree",
                                                                 "bridging", "ei"]), parts, sm), want, tmp_path)
    assert not ins.tables  # nothing was read whole


@pytest.mark.parametrize("responses", [None, pd.DataFrame(columns=["respondent_id", "wave", "item", "value"]), []])
def test_no_answers_no_item_columns(responses):
    resp, scores, nodes, _, sm = tables()
    df, labels, values = wide_scores(resp, scores, nodes, _study(), "en")
    out, items = with_items(df, dict(labels), responses, sm, _study(), "en", Labels(None, "en", sm), dict(values))
    assert items == [] and out.columns.tolist() == df.columns.tolist()
