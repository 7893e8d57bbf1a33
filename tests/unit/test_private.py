"""pipeline/private.py and textnotebook.py's masking: the sources a site publishes hold no private
value, and every other byte as it was (E130 of docs/errors.md)."""

from __future__ import annotations

import json

from knowrepo.model import Meta
from knowrepo.pipeline.frontmatter import parse_meta
from knowrepo.pipeline.private import published_source, report_secrets

FRONT = "title: Keys\nprivate_params: [token]\nparams: {token: s3cret-value, region: EU}\n"


def test_a_markdown_source_is_published_with_its_private_values_masked():
    source = f"---\n{FRONT}---\n# Keys\n\nUses s3cret-value in prose.\n".encode()
    secrets = report_secrets(parse_meta("reports/k.md", FRONT))
    published = published_source("reports/k.md", source, secrets).decode()
    assert published == (
        '---\ntitle: Keys\nprivate_params: [token]\nparams: {token: "***", region: EU}\n---\n#'
        " Keys\n\nUses *** in prose.\n"
    )


def test_a_source_with_nothing_private_is_the_same_bytes():
    source = b"---\ntitle: A\n---\n\xe2\x9c\x93 body\n"
    assert published_source("reports/a.md", source, []) is source


def test_a_notebook_s_front_matter_cell_and_outputs_are_masked():
    nb = {
        "cells": [
            {"cell_type": "raw", "source": f"---\n{FRONT}---", "metadata": {}},
            {
                "cell_type": "code",
                "source": "token",
                "outputs": [{"output_type": "stream", "text": "'s3cret-value'"}],
            },
        ]
    }
    secrets = report_secrets(parse_meta("reports/k.ipynb", FRONT))
    published = json.loads(published_source("reports/k.ipynb", json.dumps(nb).encode(), secrets))
    assert "s3cret-value" not in json.dumps(published)
    assert published["cells"][1]["outputs"][0]["text"] == "'***'"


def test_a_percent_script_s_header_is_masked():
    script = "# ---\n# private_params: [token]\n# params: {token: s3cret-value}\n# ---\n\n# %%\nx = 1\n"
    published = published_source("reports/k.py", script.encode(), []).decode()
    assert published == '# ---\n# private_params: [token]\n# params: {token: "***"}\n# ---\n\n# %%\nx = 1\n'


def test_report_secrets_come_from_params_and_every_variant():
    meta = Meta(params={"token": "aaaa-1"}, variants={"eu": {"token": "bbbb-2"}}, private_params=("token",))
    assert {"aaaa-1", "bbbb-2"} <= set(report_secrets(meta))
