"""Site size on a real corpus of notebooks with stored outputs, against Jupyter Book 1 built
from the same notebooks in the same run (and stock `jupyter nbconvert --to html` pages, which
hold every image inline, when Jupyter Book is not installed).

Usage: python benchmarks/size.py [--corpus DIR] [--jupyter-book PATH] [--json]
DIR (default: $KNOWREPO_CORPUS; without one the benchmark is skipped): a folder of .ipynb
files, e.g. the notebooks/ folder of a checkout of jakevdp/PythonDataScienceHandbook (67
notebooks, 16 MB). PATH: a jupyter-book executable (1.x).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from run import emit


def folder_bytes(folder: Path, *suffixes: str) -> int:
    """Bytes of every file under `folder` (as a web server or bucket holds them)."""
    files = (p for p in folder.resolve().rglob("*") if p.is_file() and p.name.endswith(suffixes or ("",)))
    return sum(p.stat().st_size for p in files)


def knowrepo_site(corpus: Path, work: Path) -> Path:
    repo = work / "knowrepo"
    shutil.copytree(corpus, repo / "reports")
    (repo / "knowrepo.toml").write_text('[site]\ntitle = "Corpus"\nbase_url = "https://example.org/"\n')
    command = [sys.executable, "-m", "knowrepo", "build", str(repo), "--execute", "never", "-q"]
    subprocess.run(command, check=True)
    return repo / "_site"


def jupyter_book_site(corpus: Path, work: Path, executable: str) -> Path:
    """Jupyter Book 1 with its defaults, notebooks not executed (their stored outputs shown)."""
    book = work / "book"
    shutil.copytree(corpus, book)
    names = sorted(p.relative_to(book).with_suffix("").as_posix() for p in book.rglob("*.ipynb"))
    root = next((n for n in names if n.lower() in ("index", "intro")), names[0])
    chapters = "".join(f"- file: {name}\n" for name in names if name != root)
    (book / "_toc.yml").write_text(f"format: jb-book\nroot: {root}\nchapters:\n{chapters}")
    (book / "_config.yml").write_text('title: Corpus\nexecute:\n  execute_notebooks: "off"\n')
    subprocess.run([executable, "build", str(book)], check=True, capture_output=True)
    return book / "_build" / "html"


def nbconvert_pages(corpus: Path, work: Path) -> Path:
    out = work / "nbconvert"
    notebooks = [str(p) for p in corpus.rglob("*.ipynb")]
    command = [sys.executable, "-m", "nbconvert", "--to", "html", "--output-dir", str(out), *notebooks]
    subprocess.run(command, check=True, capture_output=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=os.environ.get("KNOWREPO_CORPUS"))
    parser.add_argument("--jupyter-book", default=shutil.which("jupyter-book"))
    parser.add_argument("--json", action="store_true")
    args, _ = parser.parse_known_args()  # (run.py passes every script its own arguments)
    if args.corpus is None:
        print("size: no corpus (--corpus DIR or KNOWREPO_CORPUS): skipped", file=sys.stderr)
        if args.json:
            emit([], True)  # (run.py reads one JSON line from every script)
        return
    work = Path(tempfile.mkdtemp(prefix="kr-bench-size-"))
    try:
        site = knowrepo_site(args.corpus, work)
        size, downloads = folder_bytes(site), folder_bytes(site, ".ipynb", ".ipynb.lean.json")
        sources = folder_bytes(args.corpus, ".ipynb")
        if args.jupyter_book:
            peer_name, peer_site = "Jupyter Book 1", jupyter_book_site(args.corpus, work, args.jupyter_book)
        else:
            peer_name, peer_site = "nbconvert --to html", nbconvert_pages(args.corpus, work)
        peer = folder_bytes(peer_site)
        rows = [
            {
                "benchmark": "size",
                "metric": f"site size vs {peer_name} (MB)",
                "value": size / 1e6,
                "baseline": peer / 1e6,
                "ratio": size / peer,
                "target": "<= 0.5",
            },
            {
                "benchmark": "size",
                "metric": "notebook downloads vs the source notebooks (MB)",
                "value": downloads / 1e6,
                "baseline": sources / 1e6,
                "ratio": downloads / sources,
                "target": "",
            },
        ]
        emit(rows, args.json)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
