"""errors.py: the one error type users see, a file and what is wrong with it on one line (E14,
E71 of docs/errors.md)."""

from __future__ import annotations

import errno
import pickle

from knowrepo.errors import (
    KnowrepoError,
    Problems,
    WriteError,
    did_you_mean,
    one_line,
    unknown_key_error,
    write_error,
)


def test_an_error_is_one_line_path_first():
    error = KnowrepoError("reports/a.md", "line one\n  line two\t")
    assert str(error) == "reports/a.md: line one line two"
    assert str(KnowrepoError(None, "no path")) == "no path"
    assert (
        str(KnowrepoError("reports/a\nb.md", "x")) == "reports/a\\nb.md: x"
    )  # a file name may hold a newline


def test_E71_an_error_crosses_a_process_boundary_whole():
    error = WriteError("/site", "cannot write")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is WriteError and (again.path, again.message) == ("/site", "cannot write")


def test_E14_E15_only_the_machine_s_own_faults_are_write_errors():
    full = write_error(OSError(errno.ENOSPC, "No space left on device", "/site/x"))
    assert isinstance(full, WriteError)
    assert str(full) == "/site/x: cannot write: No space left on device; the published site is unchanged"
    assert isinstance(write_error(OSError(errno.EROFS, "Read-only file system")), WriteError)
    assert write_error(OSError(errno.ENOENT, "No such file")) is None and write_error(ValueError()) is None


def test_suggestions_are_for_near_misses_only():
    assert did_you_mean("auhtors", ["authors", "tags"]) == " (did you mean 'authors'?)"
    assert did_you_mean("colour", ["authors", "tags"]) == ""
    assert str(unknown_key_error("k.toml", "key in [site]", "titel", {"title", "code"})) == (
        "k.toml: unknown key in [site] 'titel' (did you mean 'title'?); valid: code, title"
    )


def test_one_line_escapes_control_characters():
    assert one_line("a\x1b[31mred\x1b[0m\r\nb") == "a\\x1b[31mred\\x1b[0m b"


def test_E271_swapped_letters_of_a_short_name_are_a_near_miss():
    assert did_you_mean("ue", ["eu", "us"]) == " (did you mean 'eu'?)"
    assert did_you_mean("EU", ["eu", "us"]) == " (did you mean 'eu'?)"
    assert did_you_mean("fr", ["eu", "us"]) == ""


def test_E274_problems_of_one_file_are_one_line_joined_and_a_line_each_shown():
    error = Problems("knowrepo.toml", ["[site] code must be one of show, fold, hide", "unknown section 'x'"])
    assert str(error) == "knowrepo.toml: [site] code must be one of show, fold, hide; unknown section 'x'"
    assert error.lines() == [
        "knowrepo.toml: [site] code must be one of show, fold, hide",
        "knowrepo.toml: unknown section 'x'",
    ]
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is Problems and again.lines() == error.lines()
    assert KnowrepoError("a.md", "x").lines() == ["a.md: x"]
