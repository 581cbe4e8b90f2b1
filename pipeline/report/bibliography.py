"""The references the report cites: one registry (key → APA 7 entry), citations by key.

A catalogue message cites by key, as Pandoc does: ``[@holm1979]`` is a parenthetical citation,
"(Holm, 1979)"; ``[@krackhardt1988ei; @gould1989]`` cites two, "(Krackhardt & Stern, 1988; Gould &
Fernandez, 1989)"; a bare ``@holm1979`` is a narrative one, "Holm (1979)". :func:`resolve` turns the
markers into text when the catalogues are read (:mod:`pipeline.report.text`), so every printed text
carries the same form of each citation, and a key that is not in :data:`REFERENCES` stops with the
message's id. The references section lists exactly the entries whose citation is printed
(:func:`cited_keys`), in APA 7 order and form (:func:`entry_runs`), in both languages (Indonesian:
"dkk." for "et al.", "dan" in narrative citations, "Ed. ke-2").

Every DOI and page range below was checked against a second source (the publisher's or a package's
reference list) where one could be found; an entry without a DOI has none that could be verified.

>>> cite(["holm1979"], "en")
'(Holm, 1979)'
>>> cite(["krackhardt1988ei"], "id", narrative=True)
'Krackhardt dan Stern (1988)'
>>> resolve("Holm correction [@holm1979]; see @maryam2026.", "id")
'Holm correction (Holm, 1979); see Maryam dkk. (2026).'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from ..errors import SinergiError

__all__ = ["Ref", "REFERENCES", "cite", "resolve", "marker_keys", "cited_keys", "entry_runs", "doi_url",
           "in_text_names", "ordered"]


@dataclass(frozen=True)
class Ref:
    """One work: ``authors`` in APA form (``"Holm, S."``), the title in sentence case; an article has
    ``journal``, ``volume``, ``issue``, ``pages`` (or an article number); a book ``publisher`` and
    ``edition``."""

    authors: tuple[str, ...]
    year: int
    title: str
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    publisher: str = ""
    edition: int = 0
    doi: str = ""

    @property
    def families(self) -> list[str]:
        return [a.split(",")[0].strip() for a in self.authors]


# fmt: off
REFERENCES: dict[str, Ref] = {
    "bates2015": Ref(("Bates, D.", "Mächler, M.", "Bolker, B.", "Walker, S."), 2015,
                     "Fitting linear mixed-effects models using lme4", "Journal of Statistical Software", "67", "1",
                     "1–48", doi="10.18637/jss.v067.i01"),
    "bojanowski2014": Ref(("Bojanowski, M.", "Corten, R."), 2014, "Measuring segregation in social networks",
                          "Social Networks", "39", "", "14–32", doi="10.1016/j.socnet.2014.04.001"),
    "butts2008": Ref(("Butts, C. T.",), 2008, "Social network analysis with sna", "Journal of Statistical Software",
                     "24", "6", "1–51", doi="10.18637/jss.v024.i06"),
    "chen2007": Ref(("Chen, F. F.",), 2007, "Sensitivity of goodness of fit indexes to lack of measurement invariance",
                    "Structural Equation Modeling: A Multidisciplinary Journal", "14", "3", "464–504",
                    doi="10.1080/10705510701301834"),
    "cohen1988": Ref(("Cohen, J.",), 1988, "Statistical power analysis for the behavioral sciences",
                     publisher="Lawrence Erlbaum Associates", edition=2),
    "coleman1958": Ref(("Coleman, J. S.",), 1958,
                       "Relational analysis: The study of social organizations with survey methods",
                       "Human Organization", "17", "4", "28–36", doi="10.17730/humo.17.4.q5604m676260q8n7"),
    "coleman1988": Ref(("Coleman, J. S.",), 1988, "Social capital in the creation of human capital",
                       "American Journal of Sociology", "94", "Supplement", "S95–S120", doi="10.1086/228943"),
    "cronbach1951": Ref(("Cronbach, L. J.",), 1951, "Coefficient alpha and the internal structure of tests",
                        "Psychometrika", "16", "3", "297–334", doi="10.1007/BF02310555"),
    "csardi2006": Ref(("Csárdi, G.", "Nepusz, T."), 2006, "The igraph software package for complex network research",
                      "InterJournal, Complex Systems", "", "", "1695"),
    "danon2005": Ref(("Danon, L.", "Díaz-Guilera, A.", "Duch, J.", "Arenas, A."), 2005,
                     "Comparing community structure identification", "Journal of Statistical Mechanics: Theory and "
                     "Experiment", "2005", "9", "P09008", doi="10.1088/1742-5468/2005/09/P09008"),
    "feldt1965": Ref(("Feldt, L. S.",), 1965,
                     "The approximate sampling distribution of Kuder-Richardson reliability coefficient twenty",
                     "Psychometrika", "30", "3", "357–370", doi="10.1007/BF02289499"),
    "freeman1979": Ref(("Freeman, L. C.",), 1979, "Centrality in social networks: Conceptual clarification",
                       "Social Networks", "1", "3", "215–239", doi="10.1016/0378-8733(78)90021-7"),
    "gould1989": Ref(("Gould, R. V.", "Fernandez, R. M."), 1989,
                     "Structures of mediation: A formal approach to brokerage in transaction networks",
                     "Sociological Methodology", "19", "", "89–126", doi="10.2307/270949"),
    "hake1998": Ref(("Hake, R. R.",), 1998,
                    "Interactive-engagement versus traditional methods: A six-thousand-student survey of mechanics "
                    "test data for introductory physics courses", "American Journal of Physics", "66", "1", "64–74",
                    doi="10.1119/1.18809"),
    "holm1979": Ref(("Holm, S.",), 1979, "A simple sequentially rejective multiple test procedure",
                    "Scandinavian Journal of Statistics", "6", "2", "65–70"),
    "huisman2009": Ref(("Huisman, M.",), 2009, "Imputation of missing network data: Some simple procedures",
                       "Journal of Social Structure", "10", "1", "1–29"),
    "kerby2014": Ref(("Kerby, D. S.",), 2014,
                     "The simple difference formula: An approach to teaching nonparametric correlation",
                     "Comprehensive Psychology", "3", "", "11.IT.3.1", doi="10.2466/11.IT.3.1"),
    "krackhardt1988ei": Ref(("Krackhardt, D.", "Stern, R. N."), 1988,
                            "Informal networks and organizational crises: An experimental simulation",
                            "Social Psychology Quarterly", "51", "2", "123–140", doi="10.2307/2786835"),
    "krackhardt1988qap": Ref(("Krackhardt, D.",), 1988,
                             "Predicting with networks: Nonparametric multiple regression analysis of dyadic data",
                             "Social Networks", "10", "4", "359–381", doi="10.1016/0378-8733(88)90004-4"),
    # the journal's suggested citation spells the third author "Ronaldo, S."; the byline reads Steven Ronaldi
    "lakens2013": Ref(("Lakens, D.",), 2013, "Calculating and reporting effect sizes to facilitate cumulative science: "
                      "A practical primer for t-tests and ANOVAs", "Frontiers in Psychology", "4", "", "Article 863",
                      doi="10.3389/fpsyg.2013.00863"),
    "maryam2026": Ref(("Maryam, R.", "Azzahro, A.", "Ronaldi, S.", "Ginting, O. B.", "Lapina, T. R.", "Khasanah, U.",
                       "Nasution, S. V. G.", "Safriyanto, R.", "Kurniawan, R.", "Rifai, M.", "Tresno"), 2026,
                      "Strategi pengorganisasian masyarakat berbasis sinergi kolektif dalam pengembangan UMKM untuk "
                      "penguatan ekonomi lokal", "Arus Jurnal Psikologi dan Pendidikan", "6", "1", "805–811"),
    "mcdonald1999": Ref(("McDonald, R. P.",), 1999, "Test theory: A unified treatment",
                        publisher="Lawrence Erlbaum Associates"),
    "newman2003": Ref(("Newman, M. E. J.",), 2003, "Mixing patterns in networks", "Physical Review E", "67", "2",
                      "026126", doi="10.1103/PhysRevE.67.026126"),
    "phipson2010": Ref(("Phipson, B.", "Smyth, G. K."), 2010,
                       "Permutation p-values should never be zero: Calculating exact p-values when permutations are "
                       "randomly drawn", "Statistical Applications in Genetics and Molecular Biology", "9", "1",
                       "Article 39", doi="10.2202/1544-6115.1585"),
    "putnam2000": Ref(("Putnam, R. D.",), 2000, "Bowling alone: The collapse and revival of American community",
                      publisher="Simon & Schuster"),
    "rosseel2012": Ref(("Rosseel, Y.",), 2012, "lavaan: An R package for structural equation modeling",
                       "Journal of Statistical Software", "48", "2", "1–36", doi="10.18637/jss.v048.i02"),
    "snijders2010": Ref(("Snijders, T. A. B.", "van de Bunt, G. G.", "Steglich, C. E. G."), 2010,
                        "Introduction to stochastic actor-based models for network dynamics", "Social Networks", "32",
                        "1", "44–60", doi="10.1016/j.socnet.2009.02.004"),
    "student1908": Ref(("Student",), 1908, "The probable error of a mean", "Biometrika", "6", "1", "1–25",
                       doi="10.1093/biomet/6.1.1"),
    "traag2019": Ref(("Traag, V. A.", "Waltman, L.", "van Eck, N. J."), 2019,
                     "From Louvain to Leiden: Guaranteeing well-connected communities", "Scientific Reports", "9", "",
                     "5233", doi="10.1038/s41598-019-41695-z"),
    "wasserman1994": Ref(("Wasserman, S.", "Faust, K."), 1994, "Social network analysis: Methods and applications",
                         publisher="Cambridge University Press", doi="10.1017/CBO9780511815478"),
    "welch1947": Ref(("Welch, B. L.",), 1947,
                     "The generalization of “Student's” problem when several different population variances are "
                     "involved", "Biometrika", "34", "1–2", "28–35", doi="10.1093/biomet/34.1-2.28"),
    "wilcoxon1945": Ref(("Wilcoxon, F.",), 1945, "Individual comparisons by ranking methods", "Biometrics Bulletin",
                        "1", "6", "80–83", doi="10.2307/3001968"),
    "yule1900": Ref(("Yule, G. U.",), 1900, "On the association of attributes in statistics",
                    "Philosophical Transactions of the Royal Society of London, Series A", "194", "", "257–319",
                    doi="10.1098/rsta.1900.0019"),
}
# fmt: on

_WORDS = {"id": {"and": "dan", "et_al": "dkk.", "ed": "Ed. ke-{n}"},
          "en": {"and": "and", "et_al": "et al.", "ed": "{n}{suffix} ed."}}
_PAREN = re.compile(r"\[\s*(@[A-Za-z][\w-]*(?:\s*;\s*@[A-Za-z][\w-]*)*)\s*\]")
_NARRATIVE = re.compile(r"(?<![\w@\[])@([A-Za-z][\w-]*)")


def in_text_names(key: str, lang: str, narrative: bool = False) -> str:
    """The authors as a citation names them: ``Holm``; ``Krackhardt & Stern`` (``and`` / ``dan``
    in a narrative citation); three or more, the first and ``et al.`` / ``dkk.``."""
    fam = REFERENCES[key].families
    if len(fam) == 1:
        return fam[0]
    if len(fam) == 2:
        return f"{fam[0]} {_WORDS[lang]['and'] if narrative else '&'} {fam[1]}"
    return f"{fam[0]} {_WORDS[lang]['et_al']}"


def _year_labels() -> dict[str, str]:
    """The year as printed: ``2010a`` / ``2010b`` when two works share the names and year (APA 7)."""
    groups: dict[tuple, list[str]] = {}
    for key, ref in REFERENCES.items():
        groups.setdefault((tuple(ref.families) if len(ref.families) < 3 else ref.families[0], ref.year),
                          []).append(key)
    out = {}
    for keys in groups.values():
        keys = sorted(keys, key=lambda k: REFERENCES[k].title.lower())
        for i, key in enumerate(keys):
            out[key] = f"{REFERENCES[key].year}{'abcdefghij'[i] if len(keys) > 1 else ''}"
    return out


YEARS = _year_labels()


def cite(keys: Iterable[str], lang: str, narrative: bool = False) -> str:
    """``(Holm, 1979; Chen, 2007)``, or ``Holm (1979)`` for one narrative citation."""
    keys = list(keys)
    if narrative:
        return "; ".join(f"{in_text_names(k, lang, True)} ({YEARS[k]})" for k in keys)
    return "(" + "; ".join(f"{in_text_names(k, lang)}, {YEARS[k]}" for k in keys) + ")"


def marker_keys(text: str) -> list[str]:
    """The keys a catalogue text cites (``[@a; @b]`` and ``@c``), in order."""
    keys = [k.strip().lstrip("@") for m in _PAREN.finditer(text) for k in m.group(1).split(";")]
    return keys + _NARRATIVE.findall(_PAREN.sub(" ", text))


def resolve(text: str, lang: str, where: str = "a catalogue message") -> str:
    """``text`` with its citation markers turned into citations; an unknown key stops, naming ``where``."""
    unknown = [k for k in marker_keys(text) if k not in REFERENCES]
    if unknown:
        raise SinergiError(f"{where} cites @{unknown[0]}, which is not in the references "
                           "(pipeline/report/bibliography.py)")
    text = _PAREN.sub(lambda m: cite([k.strip().lstrip("@") for k in m.group(1).split(";")], lang), text)
    return _NARRATIVE.sub(lambda m: cite([m.group(1)], lang, narrative=True), text)


def cited_keys(text: str, lang: str) -> list[str]:
    """The registry's keys whose citation (parenthetical or narrative) occurs in ``text``, in APA order."""
    found = [k for k in REFERENCES
             if f"{in_text_names(k, lang)}, {YEARS[k]}" in text
             or f"{in_text_names(k, lang, True)} ({YEARS[k]})" in text]
    return ordered(found)


def ordered(keys: Iterable[str]) -> list[str]:
    """APA 7 order: by the authors' family names (then initials), then year."""
    def sort_key(k):
        ref = REFERENCES[k]
        return [a.lower().replace("van ", "").replace("ä", "a") for a in ref.authors], YEARS[k]

    return sorted(set(keys), key=sort_key)


def _authors(ref: Ref) -> str:
    a = list(ref.authors)
    if len(a) == 1:
        return a[0]
    return ", ".join(a[:-1]) + ", & " + a[-1]


def _edition(ref: Ref, lang: str) -> str:
    if not ref.edition:
        return ""
    n = ref.edition
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(n if n < 20 else n % 10, "th")
    return " (" + _WORDS[lang]["ed"].format(n=n, suffix=suffix) + ")"


def entry_runs(key: str, lang: str) -> list[tuple[str, bool]]:
    """The APA 7 reference-list entry of ``key`` as (text, italic) runs, without its DOI
    (:func:`doi_url`): a journal article, its title plain, the journal and volume in italics; a
    book, its title in italics with the edition, then the publisher."""
    ref = REFERENCES[key]
    head = f"{_authors(ref)}{'' if _authors(ref).endswith('.') else '.'} ({YEARS[key]}). "
    if ref.journal:
        runs = [(head + f"{ref.title}. ", False), (ref.journal, True)]
        if ref.volume:
            runs += [(", ", False), (ref.volume, True)]
        tail = (f"({ref.issue})" if ref.issue else "") + (f", {ref.pages}" if ref.pages else "") + "."
        return runs + [(tail, False)]
    return [(head, False), (ref.title, True), (f"{_edition(ref, lang)}. {ref.publisher}.", False)]


def doi_url(key: str) -> str:
    """``https://doi.org/<doi>``, or "" without a DOI."""
    doi = REFERENCES[key].doi
    return f"https://doi.org/{doi}" if doi else ""
