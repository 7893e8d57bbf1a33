"""pipeline/assemble/authors.py: one name per person (E275 of docs/errors.md)."""

from __future__ import annotations

import pytest

from knowrepo.pipeline.assemble.authors import author_key, author_name, author_names


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("sarah.chen", "Sarah Chen"),
        ("ken_okafor", "Ken Okafor"),
        ("ken.okafor@corp.example", "Ken Okafor"),
        ("j.smith", "J. Smith"),
        ("bob", "Bob"),
        ("Ken Okafor", "Ken Okafor"),  # spelt out: as written
        ("  Ken   Okafor ", "Ken Okafor"),
        ("José García", "José García"),
        ("McDonald", "McDonald"),
        ("data team", "data team"),  # (a space: someone spelt it out)
    ],
)
def test_E275_a_username_reads_as_a_name_and_a_name_as_written(written: str, shown: str):
    assert author_name(written) == shown


def test_E275_every_spelling_of_one_person_is_one_author():
    assert author_key("ken.okafor") == author_key("Ken Okafor") == author_key("ken_okafor@corp.example")
    assert author_key("jose.garcia") == author_key("José García")  # (one author page)
    assert author_key("sarah.chen") != author_key("ken.okafor")
    assert author_names(["ken.okafor", "Sarah Chen", "Ken Okafor", "sarah.chen"]) == [
        "Ken Okafor",
        "Sarah Chen",
    ]
