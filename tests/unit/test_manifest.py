"""pipeline/manifest.py: the last build's record, trusted only whole and of its own shape
(E13, E154 of docs/errors.md)."""

from __future__ import annotations

from pathlib import Path

import orjson

from knowrepo.pipeline.manifest import (
    Manifest,
    ReportEntry,
    SourceRecord,
    VersionRecord,
    load_manifest,
    save_manifest,
)
from knowrepo.support.hashing import content_hash
from unit.helpers import CARD


def a_manifest() -> Manifest:
    return Manifest(
        snapshot={"config": [1, 2], "sources": {"reports/a.md": [3, 4]}},
        sources={"reports/a.md": SourceRecord(stat=[3, 4], hash="h", meta=None, kind="markdown")},
        reports={"a": ReportEntry("reports/a.md", ["a/index.html"], [], CARD, {"a/index.html": "k"})},
        files={"a/index.html": "k"},
        published="/site/v1",
        this_version=VersionRecord("/site/v1", ["a/index.html"], after=None, fresh=["a/index.html"]),
    )


def test_a_saved_manifest_loads_as_it_was(tmp_path: Path):
    path = tmp_path / "manifest.json"
    assert save_manifest(path, a_manifest()) is None
    loaded, why = load_manifest(path)
    assert why == ""
    assert loaded.to_json() == a_manifest().to_json()
    assert loaded.reports["a"].card == CARD  # tuples again, not the lists JSON keeps


def test_no_manifest_is_an_empty_one_without_a_reason(tmp_path: Path):
    assert load_manifest(tmp_path / "none.json") == (Manifest(), "")


def test_E13_a_truncated_edited_or_foreign_manifest_is_not_trusted(tmp_path: Path):
    path = tmp_path / "manifest.json"
    save_manifest(path, a_manifest())
    whole = path.read_bytes()
    path.write_bytes(whole[:-10])
    assert load_manifest(path) == (Manifest(), "it is damaged")
    path.write_bytes(whole.replace(b"/site/v1", b"/site/v2"))
    assert load_manifest(path) == (Manifest(), "it is damaged")
    header, _, payload = whole.partition(b"\n")
    other = orjson.dumps({**orjson.loads(header), "version": 1})
    path.write_bytes(other + b"\n" + payload)
    assert load_manifest(path) == (Manifest(), "it is from another version of knowrepo, or damaged")


def test_E154_a_manifest_whose_checksum_holds_but_not_its_shape_is_not_trusted(tmp_path: Path):
    path = tmp_path / "manifest.json"
    save_manifest(path, a_manifest())
    header, _, payload = path.read_bytes().partition(b"\n")
    data = orjson.loads(payload)
    data["reports"]["a"]["files"] = "a/index.html"  # a list no more
    payload = orjson.dumps(data)
    head = {**orjson.loads(header), "sha256": content_hash(payload), "bytes": len(payload)}
    path.write_bytes(orjson.dumps(head) + b"\n" + payload)
    assert load_manifest(path) == (Manifest(), "it is not of the shape this version writes")


def test_a_manifest_that_cannot_be_saved_is_removed_and_named(tmp_path: Path):
    path = tmp_path / "manifest.json"
    save_manifest(path, Manifest())
    broken = Manifest(files={"x": object()})  # type: ignore[dict-item]
    message = save_manifest(path, broken)
    assert message is not None and message.startswith(f"{path}: the build state could not be saved (")
    assert message.endswith("the next build rebuilds all") and not path.exists()


def test_E130_the_manifest_holds_no_private_value():
    meta = {
        "private_params": ["token"],
        "params": {"token": "s3cret", "n": 1},
        "variants": {"eu": {"token": "x1"}},
    }
    data = SourceRecord(stat=[1, 2], hash="h", meta=meta).to_json()
    assert data["meta"]["params"] == {"token": "***", "n": 1}
    assert data["meta"]["variants"] == {"eu": {"token": "***"}}
    assert data["secret"] is True and meta["params"]["token"] == "s3cret"  # (the record itself is kept)


def test_a_card_saved_before_figures_had_styles_loads_with_none():
    old = {k: v for k, v in CARD.to_json().items() if k not in ("metric_styles", "variant")}
    entry = ReportEntry.from_json({**ReportEntry("reports/a.md", [], [], CARD, {}).to_json(), "card": old})
    assert entry.card.metric_styles == {} and entry.card.variant == "" and entry.card == CARD
