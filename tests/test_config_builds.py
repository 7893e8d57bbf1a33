"""Config options end to end: a real build re-renders report bodies when, and only when, an
option declared to invalidate rendering changes (tests/unit/test_config_options.py checks the
key itself for every option)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_knowrepo


def test_a_config_edit_renders_bodies_again_only_for_an_option_declared_render(tmp_path: Path):
    repo = tmp_path / "repo"
    (repo / "reports").mkdir(parents=True)
    for name in ("a", "b"):
        (repo / f"reports/{name}.md").write_text(f"---\ntitle: Report {name}\n---\n\nProse of {name}.\n")
    config = repo / "knowrepo.toml"

    def build_with(text: str) -> dict:
        config.write_text(text)
        return json.loads(run_knowrepo("build", str(repo), "--json").stdout)

    assert build_with('[site]\ntitle = "One"\n')["rendered"] == 2
    pages_only = build_with('[site]\ntitle = "Two"\n[email]\nhost = "smtp.example.com"\n')
    assert (pages_only["rendered"], pages_only["cached"]) == (0, 2)
    assert "Two" in (repo / "_site/index.html").read_text()  # (every edit assembles the pages again)
    render = build_with('[site]\ntitle = "Two"\nmax_output_kb = 2048\n[email]\nhost = "smtp.example.com"\n')
    assert (render["rendered"], render["cached"]) == (2, 0)
