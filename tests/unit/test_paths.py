"""support/paths.py and support/text.py: which files may be read into the site, and text read as
UTF-8 (E36, E42, E43, E152, E153 of docs/errors.md)."""

from __future__ import annotations

from pathlib import Path

from knowrepo.support.paths import outside_reason
from knowrepo.support.text import decode, read_text
from unit.helpers import error_line


def test_files_inside_the_repository_may_be_read(tmp_path: Path):
    (tmp_path / "reports").mkdir()
    assert outside_reason(tmp_path, tmp_path / "reports/a.png") is None
    assert outside_reason(tmp_path, tmp_path / "reports/../reports/a.png") is None


def test_E42_E43_paths_that_lead_outside_or_into_private_folders(tmp_path: Path):
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "link").symlink_to(tmp_path)
    assert (
        outside_reason(root, root / "../secret.md")
        == f"leads outside the repository (to {tmp_path / 'secret.md'})"
    )
    assert outside_reason(root, root / "link/x") == f"leads outside the repository (to {tmp_path / 'x'})"
    assert outside_reason(root, root / ".git/config") == "leads into the repository's .git/ folder"
    assert (
        outside_reason(root, root / ".knowrepo/manifest.json")
        == "leads into the repository's .knowrepo/ folder"
    )


def test_a_symlink_loop_and_a_nul_byte_are_named(tmp_path: Path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    assert outside_reason(tmp_path, tmp_path / "a") == "is a symlink loop"
    assert outside_reason(tmp_path, tmp_path / "a\0b.png") == "is not a valid path"


def test_E153_text_is_utf8_without_its_byte_order_mark():
    assert decode("\ufeff---\ntitle: x".encode(), "r.md") == "---\ntitle: x"


def test_E36_E152_text_that_is_not_utf8_is_one_line_naming_the_byte(tmp_path: Path):
    assert error_line(decode, b"---\ntitle: caf\xe9 au lait\n", "reports/a.md") == (
        "reports/a.md: not UTF-8 text: invalid continuation byte at byte 14"
    )
    assert error_line(read_text, tmp_path / "missing.toml", "knowrepo.toml") == (
        "knowrepo.toml: cannot read: No such file or directory"
    )
