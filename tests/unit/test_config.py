"""config.py: knowrepo.toml found upward, read and validated (E08-E10, E125, E152, E153 of
docs/errors.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowrepo.config import OPTIONS, declared_options, find_root, load_config, parse_config
from knowrepo.errors import KnowrepoError, Problems
from knowrepo.loader import load_registry
from unit.helpers import error_line

# ---- moved from tests/test_parsing.py -------------------------------------------------------


def test_config_unknown_key_suggests_and_types_are_checked(tmp_path: Path):
    with pytest.raises(KnowrepoError, match="did you mean 'base_url'"):
        parse_config(tmp_path, '[site]\nbaseurl = "/kr/"\n')
    with pytest.raises(KnowrepoError, match=r"\[execute\] timeout must be int"):
        parse_config(tmp_path, '[execute]\ntimeout = "10"\n')
    config = parse_config(tmp_path, '[site]\nbase_url = "https://intra.example.com/kr"\n')
    assert config.site.base_path == "/kr/"
    assert config.site.absolute_url == "https://intra.example.com/kr/"


def test_repository_is_found_upward(tmp_path: Path):
    (tmp_path / "knowrepo.toml").write_text("")
    deep = tmp_path / "reports" / "a" / "b"
    deep.mkdir(parents=True)
    assert find_root(deep) == tmp_path.resolve()
    with pytest.raises(KnowrepoError, match="no knowrepo.toml"):
        find_root(tmp_path.parent)


# ---- the catalogue's rows, message by message ------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[site\n", "invalid TOML: Expected ']' at the end of a table declaration (at line 1, column 6)"),
        (
            "[sites]\n",
            "unknown section 'sites' (did you mean 'site'?); valid: build, email, execute, pdf, site, theme",
        ),
        ("site = 1\n", "'site' must be a [site] table"),
        ("[execute]\ntimeout = 0\n", "[execute] timeout must be at least 1, not 0"),
        ("[execute]\nworkers = true\n", "[execute] workers must be int, not bool"),
        ("[execute]\nexecutor = 'ray'\n", "[execute] executor must be one of local, dask, not 'ray'"),
        ("[pdf]\npaper = 'A5'\n", "[pdf] paper must be one of A4, Letter, not 'A5'"),
        ("[email]\nsender = 'not an address'\n", "[email] sender 'not an address' is not an email address"),
    ],
)
def test_E08_E10_E125_a_bad_setting_is_one_line_naming_the_file(tmp_path: Path, toml: str, message: str):
    # (the executors are the registry's: the config is checked against the registry it is given)
    line = error_line(parse_config, tmp_path, toml, load_registry=load_registry)
    assert line == f"{tmp_path}/knowrepo.toml: {message}"


def test_E09_an_unknown_key_lists_the_valid_ones(tmp_path: Path):
    line = error_line(parse_config, tmp_path, '[site]\nbaseurl = "/kr/"\n')
    assert line.startswith(
        f"{tmp_path}/knowrepo.toml: unknown key in [site] 'baseurl' (did you mean 'base_url'?); valid:"
        f" base_url, code, description,"
    )


def test_defaults_and_the_digest_of_the_text(tmp_path: Path):
    config = parse_config(tmp_path, "")
    assert (config.site.base_path, config.site.absolute_url, config.execute.timeout) == ("/", None, 600)
    assert config.state_dir == tmp_path / ".knowrepo"
    assert parse_config(tmp_path, "").digest != parse_config(tmp_path, "\n").digest
    assert config.workers(3) == 3 and parse_config(tmp_path, "[execute]\nworkers = 2").workers() == 2


@pytest.mark.parametrize(
    ("base_url", "path"), [("/", "/"), ("kr", "/kr/"), ("/a/b/", "/a/b/"), ("https://x.example.com", "/")]
)
def test_the_base_path_always_has_both_slashes(tmp_path: Path, base_url: str, path: str):
    assert parse_config(tmp_path, f'[site]\nbase_url = "{base_url}"\n').site.base_path == path


def test_E153_E152_the_file_is_utf8_with_or_without_a_byte_order_mark(tmp_path: Path):
    (tmp_path / "knowrepo.toml").write_bytes('\ufeff[site]\ntitle = "Café"\n'.encode())
    assert load_config(tmp_path).site.title == "Café"
    (tmp_path / "knowrepo.toml").write_bytes(b'[site]\ntitle = "Caf\xe9s"\n')
    assert error_line(load_config, tmp_path) == (
        f"{tmp_path}/knowrepo.toml: not UTF-8 text: invalid continuation byte at byte 19"
    )


def test_E274_every_fault_of_knowrepo_toml_is_named_with_its_key(tmp_path: Path):
    text = '[site]\nbaseurl = "/kr/"\ncode = "folded"\n[execute]\ntimeout = 0\n[sitee]\nx = 1\n'
    with pytest.raises(Problems) as raised:
        parse_config(tmp_path, text)
    path = tmp_path / "knowrepo.toml"
    assert raised.value.lines() == [
        f"{path}: unknown key in [site] 'baseurl' (did you mean 'base_url'?); valid: "
        + ", ".join(sorted(declared.name for declared in declared_options() if declared.section == "site")),
        f"{path}: [site] code must be one of show, fold, hide, not 'folded'",
        f"{path}: [execute] timeout must be at least 1, not 0",
        f"{path}: unknown section 'sitee' (did you mean 'site'?); valid: " + ", ".join(sorted(OPTIONS)),
    ]
