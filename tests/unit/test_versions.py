"""pipeline/versions.py, its checks of the output: knowrepo replaces only what it made (E01-E05,
E93 of docs/errors.md)."""

from __future__ import annotations

import os
from pathlib import Path

from knowrepo.pipeline.versions import check_output, current_version, versions_dir
from unit.helpers import error_line


def repo(tmp_path: Path) -> dict[str, Path]:
    root = tmp_path / "repo"
    (root / "reports").mkdir(parents=True, exist_ok=True)
    return {"the repository": root, "reports/": root / "reports", "runs/": root / "runs"}


def test_a_new_or_empty_output_is_fine(tmp_path: Path):
    protected = repo(tmp_path)
    check_output(tmp_path / "repo/_site", protected)
    (tmp_path / "empty").mkdir()
    check_output(tmp_path / "empty", protected)


def test_E01_a_folder_knowrepo_did_not_make_is_refused(tmp_path: Path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/index.md").write_text("mine")
    assert error_line(check_output, tmp_path / "docs", repo(tmp_path)) == (
        f"{tmp_path}/docs: exists and is not a site knowrepo published (knowrepo never replaces a folder"
        f" it did"
        " not make); move it away or choose another output with -o"
    )


def test_E02_E03_E04_an_output_that_would_replace_or_sit_in_the_repository_s_folders(tmp_path: Path):
    protected = repo(tmp_path)
    assert error_line(check_output, tmp_path / "repo", protected).endswith(
        "cannot publish the site here: it would replace the repository; choose another output"
    )
    assert error_line(check_output, tmp_path, protected).endswith(
        "it would replace the repository; choose another output"
    )
    assert "it would replace reports/" in error_line(check_output, tmp_path / "repo/reports", protected)
    assert error_line(check_output, tmp_path / "repo/runs/site", protected, ("runs/",)).endswith(
        "cannot publish the site inside runs/; choose another output"
    )


def test_E05_E93_a_symlink_knowrepo_did_not_make_is_refused_dangling_too(tmp_path: Path):
    (tmp_path / "target").mkdir()
    (tmp_path / "out").symlink_to(tmp_path / "target")
    (tmp_path / "dangling").symlink_to(tmp_path / "a-mount-to-come")
    for link in ("out", "dangling"):
        assert error_line(check_output, tmp_path / link, repo(tmp_path)).endswith(
            "exists and is a symlink knowrepo did not make; remove it or choose another output"
        )


def test_knowrepo_s_own_symlink_points_into_its_versions_folder(tmp_path: Path):
    output = tmp_path / "_site"
    assert versions_dir(output) == tmp_path / "._site.versions"
    (versions_dir(output) / "v1").mkdir(parents=True)
    os.symlink(Path("._site.versions/v1"), output)
    assert current_version(output) == (versions_dir(output) / "v1").resolve()
    check_output(output, repo(tmp_path))  # its own: replaced at will


def test_a_versions_folder_with_foreign_files_is_refused(tmp_path: Path):
    (tmp_path / "._site.versions").mkdir()
    (tmp_path / "._site.versions/photos").mkdir()
    assert "holds files knowrepo did not make (photos)" in error_line(
        check_output, tmp_path / "_site", repo(tmp_path)
    )
