"""support/secrets.py: private values found in every form text shows them, and masked (E58, E92
of docs/errors.md)."""

from __future__ import annotations

from knowrepo.support.secrets import MASK, joined, masked, scrub, secrets_in, secrets_of


def test_the_mask_takes_only_private_values():
    assert masked({"token": "abc", "n": 1}, ("token",)) == {"token": MASK, "n": 1}


def test_E92_every_form_of_a_value_is_a_secret_longest_first():
    secrets = secrets_of({"token": 'ab"c d\t<&>', "region": "EU-west"}, ("token",))
    for form in (
        'ab"c d\t<&>',  # as it is
        'ab"c d\\t<&>',  # repr'd
        'ab\\"c d\\t<&>',  # JSON-escaped
        "ab&quot;c d\t&lt;&amp;&gt;",  # HTML-escaped
        "ab%22c%20d%09%3C%26%3E",  # URL-quoted
        "ab%22c+d%09%3C%26%3E",  # (as a form field)
    ):
        assert form in secrets, form
    assert "EU-west" not in secrets
    assert [len(s) for s in secrets] == sorted((len(s) for s in secrets), reverse=True)


def test_texts_inside_lists_and_mappings_and_every_variant_are_secrets():
    secrets = secrets_in(
        [{"creds": {"user": "ana-admin", "keys": ["k-123456"]}}, {"creds": "variant-pass"}], ["creds"]
    )
    assert {"user", "ana-admin", "keys", "k-123456", "variant-pass"} <= set(secrets)


def test_short_values_are_not_searched_for():
    assert secrets_of({"pin": "123", "n": 7}, ("pin", "n")) == []


def test_a_block_scalar_s_lines_are_secrets_each():
    assert {"line one", "line two"} <= set(secrets_of({"key": "line one\nline two\n"}, ("key",)))


def test_E58_scrub_replaces_every_secret_in_text_and_structures():
    secrets = secrets_of({"token": "s3cret!"}, ("token",))
    value = {"out": ["got s3cret!", "url?t=s3cret%21"], "s3cret!": 1, "n": 5}
    assert scrub(value, secrets) == {"out": ["got ***", "url?t=***"], "***": 1, "n": 5}
    assert scrub("nothing", []) == "nothing"


def test_joined_lists_are_one_longest_first():
    assert joined(["abcd", "abcdef"], ["abcd", "xyzxyzxyz"]) == ["xyzxyzxyz", "abcdef", "abcd"]
