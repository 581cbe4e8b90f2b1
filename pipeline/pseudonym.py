"""Pseudonyms: the study's secret key and the keyed hash that turns roster ids into pseudonyms.

A respondent's id (a roster ``name``, a tables study's ``respondent_id``) becomes ``R`` + hex digits
of HMAC-SHA256(key, id), so the same person has the same pseudonym in every wave and names never
leave ``data/raw/``. The key lives only in ``data/raw/<study>/pseudonym.key`` (owner-only, 0600):

- :func:`ensure_key` makes it on a study's first pull (with ``pseudonym.width``, the digits of a
  new study's pseudonyms) and refuses a missing or replaced key once data was pulled;
- :func:`read_key` reads it and checks it against the fingerprint the raw manifest recorded
  (:func:`key_fingerprint`, never the key itself); :func:`stamp_key` records the fingerprint in the
  processed tables, so a later tidy with another key is refused;
- :func:`pseudonymizer` is the hash; :func:`check_collisions` stops when two ids get one pseudonym.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import stat
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from .config import Study
from .errors import SinergiError
from .io import read_json, write_text

#: width (hex digits after "R") given to a new study's pseudonyms: 64 bits, so a national program
#: of 10 million ids has a ~3e-6 chance of any two colliding (the birthday bound n^2 / 2^(4w+1))
PSEUDONYM_WIDTH = 16
#: width of a study whose key has no ``pseudonym.width`` beside it (made before widths were
#: recorded): 28 bits, collision chance ~0.2% at 1,000 ids and near-certain at 50,000
LEGACY_PSEUDONYM_WIDTH = 7


def pseudonym_width(raw_dir: Path) -> int:
    """Hex digits of the study's pseudonyms: ``data/raw/<id>/pseudonym.width``, written with a
    new key (:data:`PSEUDONYM_WIDTH`); a study without the file keeps its
    :data:`LEGACY_PSEUDONYM_WIDTH` digits, so its pseudonyms never change unasked."""
    path = Path(raw_dir) / "pseudonym.width"
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return LEGACY_PSEUDONYM_WIDTH
    if not re.fullmatch(r"[0-9]{1,2}", text) or not 7 <= int(text) <= 64:
        raise SinergiError(f"{path}: {text!r} is not a pseudonym width (a whole number of hex digits, 7 to 64)")
    return int(text)


def pseudonymizer(key: bytes, width: int = LEGACY_PSEUDONYM_WIDTH):
    """Return ``f(raw_id) -> pseudonym``: ``"R"`` + ``width`` hex digits of HMAC-SHA256(key, id).

    The first 7 digits do not depend on the width: widening a study's pseudonyms lengthens
    every code, it does not reshuffle them (``R3f9a0c1`` becomes ``R3f9a0c12b4e77d01``).

    >>> f = pseudonymizer(b"k")
    >>> f("u001") == f("u001"), f("u001") != f("u002")
    (True, True)
    >>> pseudonymizer(b"k", 16)("u001").startswith(f("u001"))
    True
    """
    cache: dict[str, str] = {}

    def f(raw_id: str) -> str:
        raw_id = str(raw_id)
        if raw_id not in cache:
            cache[raw_id] = "R" + hmac.new(key, raw_id.encode("utf-8"), hashlib.sha256).hexdigest()[:width]
        return cache[raw_id]

    f.width = width
    return f


#: the fixed text whose HMAC under the key is the key's fingerprint (never the key itself)
FINGERPRINT_TEXT = b"sinergi pseudonym key fingerprint"


def key_fingerprint(key: bytes) -> str:
    """A short public fingerprint of a pseudonym key: 16 hex digits of HMAC-SHA256(key, fixed text).

    It identifies the key (two keys give different fingerprints) without revealing it, so it can
    be written in the raw manifest and the processed tables to check later that the same key is
    still in use.

    >>> key_fingerprint(b"k") == key_fingerprint(b"k"), key_fingerprint(b"k") != key_fingerprint(b"j")
    (True, True)
    """
    return hmac.new(key, FINGERPRINT_TEXT, hashlib.sha256).hexdigest()[:16]


def read_key(raw_dir: Path) -> bytes:
    """The study's pseudonym key, checked against the fingerprint in the raw ``manifest.json``.

    Raises
    ------
    SinergiError
        The key is missing, is not hex, or is not the key the raw data was pulled with (every
        respondent would get a new pseudonym); the message names the file to restore.
    """
    path = Path(raw_dir) / "pseudonym.key"
    manifest = Path(raw_dir) / "manifest.json"
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        if manifest.exists():
            raise SinergiError(f"{path}: pseudonym key missing; this study's raw data was pulled with it, so restore "
                               "pseudonym.key from your backup of data/raw/ (a new key would give every respondent "
                               "a new pseudonym)") from None
        raise SinergiError(f"{path}: pseudonym key missing; run `make pull` to create the study's raw folder") from None
    if not re.fullmatch(r"[0-9a-f]{32,128}", text):
        raise SinergiError(f"{path}: not a pseudonym key (expected hex digits)")
    note = tighten_key(path)
    if note:
        print(note)
    key = bytes.fromhex(text)
    if manifest.exists():
        check_fingerprint(key, read_json(manifest).get("key_fingerprint"), path, manifest)
    return key


def tighten_key(path: Path) -> str | None:
    """Make the key file owner-only (0600) if others can read it; say what was done (else None)."""
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if not mode & 0o077:
        return None
    os.chmod(path, 0o600)
    return f"{path}: was readable by others ({mode:04o}); now owner-only (0600)"


def check_fingerprint(key: bytes, recorded: str | None, key_path: Path, where: Path) -> None:
    """Refuse a key whose fingerprint differs from the one ``where`` recorded (None: nothing recorded)."""
    if recorded and key_fingerprint(key) != recorded:
        raise SinergiError(f"{key_path}: not the pseudonym key of the data in {where} (key fingerprint "
                           f"{key_fingerprint(key)}, recorded {recorded}); every respondent would get a new "
                           f"pseudonym. Restore {key_path} from your backup (or delete data/raw/<id>/ and "
                           "data/processed/<id>/ to start the study over)")


def processed_fingerprint(path: Path) -> str | None:
    """The key fingerprint stored in a processed parquet table's metadata (None if absent)."""
    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, ValueError):
        return None
    attrs = json.loads(meta.get(b"PANDAS_ATTRS", b"{}") or b"{}")
    return attrs.get("key_fingerprint") if isinstance(attrs, dict) else None


def stamp_key(study: Study, frames: dict[str, pd.DataFrame], raw_dir: Path) -> dict[str, pd.DataFrame]:
    """Check the key against the already processed tables, then record its fingerprint in them.

    The fingerprint goes into the pandas metadata (``attrs["key_fingerprint"]``) of every parquet
    table, so a later tidy with another key is refused instead of renaming every respondent.
    """
    key = read_key(raw_dir)
    old = study.processed_dir / "respondents.parquet"
    if old.exists() and study.source.kind != "demo":  # a demo with another seed is other people
        check_fingerprint(key, processed_fingerprint(old), Path(raw_dir) / "pseudonym.key", old)
    for name in ("respondents", "responses", "ties", "scale_map"):
        if name in frames:
            frames[name].attrs["key_fingerprint"] = key_fingerprint(key)
    return frames


def check_collisions(mapping: dict[str, str], raw_dir: Path | None = None) -> None:
    """Stop when two raw ids got the same pseudonym, naming them, the width and how to widen it."""
    seen: dict[str, str] = {}
    for raw, pseudo in mapping.items():
        if pseudo in seen and seen[pseudo] != raw:
            width = len(pseudo) - 1
            where = Path(raw_dir) / "pseudonym.width" if raw_dir is not None else "data/raw/<id>/pseudonym.width"
            raise SinergiError(
                f"respondent ids {seen[pseudo]!r} and {raw!r} get the same pseudonym {pseudo} (R + {width} hex "
                f"digits = {4 * width} bits, {len(mapping):,} ids): widen the pseudonyms with "
                f"`echo {PSEUDONYM_WIDTH} > {where}` and rerun (`make report`); every pseudonym gets longer "
                "(the key stays), so earlier reports' codes keep only their first 7 digits in common")
        seen[pseudo] = raw


def ensure_key(raw_dir: Path) -> list[str]:
    """Make sure the study has its ``pseudonym.key``, readable by its owner only.

    The key is created (256 random bits, mode 0600) on the first pull only. An existing key that
    others can read is tightened to 0600. A study that was already pulled (it has a
    ``manifest.json``) must keep the key it was pulled with: a missing key, or one whose
    fingerprint differs from the manifest's ``key_fingerprint``, would give every respondent of
    the earlier waves a new pseudonym, so it is refused. A new key comes with ``pseudonym.width``
    (the hex digits of its pseudonyms, :data:`PSEUDONYM_WIDTH`); an existing key
    without a width file keeps 7 digits.

    Parameters
    ----------
    raw_dir : Path
        The study's raw folder, ``data/raw/<id>/``.

    Returns
    -------
    list of str
        What was done, one line each (for the command to print); empty when nothing was needed.

    Raises
    ------
    SinergiError
        The key is missing or replaced although the study's raw data was already pulled.
    """
    path = raw_dir / "pseudonym.key"
    manifest_path = raw_dir / "manifest.json"
    notes: list[str] = []
    if not path.exists():
        if manifest_path.exists():
            raise SinergiError(f"{path}: missing, but this study was already pulled ({manifest_path}); a new key "
                               "would give every earlier respondent a new pseudonym. Restore pseudonym.key from "
                               "your backup of data/raw/ (or delete data/raw/<id>/ and data/processed/<id>/ to "
                               "start the study over)")
        write_text(raw_dir / "pseudonym.width", f"{PSEUDONYM_WIDTH}\n")
        create_key(path)
        notes.append(f"{path}: new pseudonym key (owner-only, 0600); back it up with data/raw/ — without it the "
                     "next wave's pseudonyms will not match")
        return notes
    note = tighten_key(path)
    if note:
        notes.append(note)
    read_key(raw_dir)  # a key that does not match the manifest's fingerprint is refused
    return notes


def create_key(path: Path) -> None:
    """Write a new random key to ``path`` atomically, mode 0600 from the start."""
    fd, tmp = tempfile.mkstemp(prefix=".pseudonym.key.", suffix=".tmp", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
