"""support/addresses.py: one email address per item, checked before anything connects (E123,
E126, E127 of docs/errors.md)."""

from __future__ import annotations

import pytest

from knowrepo.support.addresses import address_problem, parse_address, shown


def test_E126_a_display_name_with_a_comma_is_one_address():
    address = parse_address('"Lopez, Ana" <ana@example.com>')
    assert (address.display_name, address.addr_spec) == ("Lopez, Ana", "ana@example.com")
    assert parse_address("bo@example.com").addr_spec == "bo@example.com"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not an address", "is not an email address"),
        ("", "is not an email address"),
        ("<>", "is not an email address"),
        ("a@b@c", "is not an email address"),
        ("a@x.com\r\nBcc: e@x.com", "is not an email address (it holds a line break or control character)"),
        ("a@x.com, b@x.com", "is not one email address (give one address per item)"),
        ("team: a@x.com;", "is not one email address (give one address per item)"),
        ("ana@exämple.com", "is not an ASCII email address (write an international domain in its xn-- form)"),
        ("a" * 400 + "@x.com", "is not an email address (longer than 320 characters)"),
    ],
)
def test_E123_E127_what_is_not_one_address_says_why(text: str, problem: str):
    assert address_problem(text) == problem


def test_an_address_is_quoted_short_and_on_one_line():
    assert shown("a\nb") == "'a\\nb'"
    assert shown("x" * 200) == repr("x" * 80)
