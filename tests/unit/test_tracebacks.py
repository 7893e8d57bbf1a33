"""A failed run's error line and its published traceback (knowrepo.support.tracebacks), on text
a real kernel wrote (pandas 3.1 reading parquet without pyarrow, IPython 9; tests/
test_publish_failures.py makes one with a real kernel and checks the built site)."""

from __future__ import annotations

import json

from knowrepo.support.tracebacks import error_line, first_line, shorten_path, shorten_paths, strip_ansi

VENV = "/srv/alice/.venv"
ROOT = "/home/alice/kb"
# A frame of a real traceback, as the kernel coloured it (only the venv's folder changed).
FRAME = (
    f"\x1b[36mFile \x1b[39m\x1b[32m{VENV}/lib/python3.11/site-packages/pandas/io/parquet.py:757\x1b[39m,"
    " in \x1b[36mread_parquet\x1b[39m\x1b[34m(path, engine, columns)\x1b[39m\n"
    "\x1b[32m--> \x1b[39m\x1b[32m757\x1b[39m impl = \x1b[30;43mget_engine\x1b[39;49m\n"
)
PYARROW = (
    "Unable to find a usable engine; tried using: 'pyarrow', 'fastparquet'.\n"
    "A suitable version of pyarrow or fastparquet is required for parquet support.\n"
    "Trying to import the above resulted in these errors:\n"
    " - `Import pyarrow` failed. pyarrow is required for parquet support. Use pip, conda, or your"
    " preferred package management tool to install the pyarrow package.\n"
    " - `Import fastparquet` failed. fastparquet is required for parquet support."
)


def test_a_package_frame_is_shortened_to_the_package_coloured_or_not():
    for text in (FRAME, strip_ansi(FRAME)):
        short = shorten_paths(text, [ROOT])
        assert "pandas/io/parquet.py:757" in short and VENV not in short and "alice" not in short
    plain = shorten_paths(strip_ansi(FRAME), [ROOT])
    assert plain.startswith("File pandas/io/parquet.py:757, in read_parquet(path, engine, columns)")


def test_the_repository_the_standard_library_and_other_folders():
    text = (
        f'File "{ROOT}/reports/helpers.py", line 3, in load\n'
        '  File "/usr/lib/python3.11/json/decoder.py", line 355, in raw_decode\n'
        "FileNotFoundError: [Errno 2] No such file or directory: '/tmp/tmpab12cd/alice/data.csv'\n"
        "dist: /usr/lib/python3/dist-packages/numpy/core.py see https://example.com/a/b and and/or"
    )
    short = shorten_paths(text, [ROOT, "/private" + ROOT])
    assert 'File "reports/helpers.py", line 3' in short
    assert 'File "json/decoder.py", line 355' in short
    assert "directory: '\N{HORIZONTAL ELLIPSIS}/data.csv'" in short and "/tmp" not in short
    assert "numpy/core.py" in short and "https://example.com/a/b and and/or" in short
    assert "alice" not in short


def test_paths_in_a_notebooks_json_text_are_shortened_where_they_stand():
    raw = json.dumps({"traceback": [FRAME]})  # ESC written as \u001b
    short = shorten_paths(raw, [ROOT])
    assert VENV not in short and json.loads(short)["traceback"][0] == shorten_paths(FRAME, [ROOT])


def test_paths_ipython_writes_from_the_home_folder():
    text = (
        "File ~/.pyenv/versions/3.11.7/lib/python3.11/json/__init__.py:346, in loads(s)\n"
        "File ~/kb/reports/helpers.py:3, in load()\nFile ~/elsewhere/x.py:1"
    )
    short = shorten_paths(text, [ROOT, "~/kb"])
    assert short.splitlines() == [
        "File json/__init__.py:346, in loads(s)",
        "File reports/helpers.py:3, in load()",
        "File \N{HORIZONTAL ELLIPSIS}/x.py:1",
    ]


def test_one_path():
    assert shorten_path(ROOT, [ROOT]) == "."
    assert shorten_path(f"{ROOT}-other/x.py", [ROOT]) == "\N{HORIZONTAL ELLIPSIS}/x.py"
    assert shorten_path(f"{ROOT}/.venv/lib/python3.11/site-packages/pandas/__init__.py", [ROOT]) == (
        "pandas/__init__.py"
    )


def test_the_error_line_names_the_cell_and_keeps_one_meaningful_line():
    assert error_line("ValueError", "no data for month '2026-12'", 4) == (
        "cell 4: ValueError: no data for month '2026-12'"
    )
    line = error_line("ImportError", PYARROW, 2)
    assert line == (
        "cell 2: ImportError: Unable to find a usable engine; tried using: 'pyarrow', 'fastparquet'."
        " \N{HORIZONTAL ELLIPSIS}"
    )
    assert error_line("", "No space left on device", None) == "No space left on device"
    assert error_line("KeyboardInterrupt", "", 3) == "cell 3: KeyboardInterrupt"
    long = first_line("word " * 100, 40)
    assert len(long) <= 42 and long.endswith("word \N{HORIZONTAL ELLIPSIS}")
    assert first_line("\n---\n  \x1b[31mreal\x1b[0m message  \n") == "real message"
