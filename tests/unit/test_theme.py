"""pipeline/assemble/theme.py: the theme's folders found (E278 of docs/errors.md)."""

from __future__ import annotations

from pathlib import Path

from knowrepo.pipeline.assemble.theme import theme_dirs
from unit.helpers import error_line


def test_E278_a_theme_that_is_not_there_says_which_was_meant(tmp_path: Path):
    (tmp_path / "themes/acme/templates").mkdir(parents=True)
    assert theme_dirs(tmp_path, "acme")[0] == tmp_path / "themes/acme"
    assert error_line(theme_dirs, tmp_path, "acne") == (
        f"{tmp_path}/knowrepo.toml: theme 'acne' not found: no folder {tmp_path}/themes/acne"
        " (did you mean 'acme'?); themes: default, acme"
    )
