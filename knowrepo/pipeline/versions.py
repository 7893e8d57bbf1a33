"""The site's versions: a new one is staged beside the output, then a symlink flips (the
publish stage, publish.py, does it).

A rename onto a non-empty directory fails on Linux, so the output path is a symlink to the
current version; `os.replace` of a symlink is atomic. A kill at any moment leaves the
symlink pointing at a complete version. Unchanged files are hard links into the previous
version: staging costs almost nothing for them and their inodes stay the same.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from knowrepo.errors import KnowrepoError

MARKER = ".knowrepo-versions"  # in a versions folder: knowrepo made it and may delete in it
_OURS = re.compile(r"^(v\d+|previous-\d+|\.search-.*|\.trash-.*|\.tmp-.*)$")


def versions_dir(output: Path) -> Path:
    return output.parent / f".{output.name}.versions"


def current_version(output: Path) -> Path | None:
    """The version folder the output symlink points at, if it is one of ours."""
    if output.is_symlink():
        target = (output.parent / os.readlink(output)).resolve()
        if target.is_dir() and target.parent == versions_dir(output).resolve():
            return target
    return None


def check_output(output: Path, protected: dict[str, Path], no_inside: tuple[str, ...] = ()) -> None:
    """Refuse an output for which knowrepo would have to move or delete what it did not make:
    a folder of the user's, or one of the `protected` folders (by the name to show), which the
    output may neither equal nor contain; nor may it lie inside those named in `no_inside`.
    knowrepo only ever replaces its own symlink and what is in its own versions folder."""
    out = Path(os.path.normpath(output.absolute()))
    real_out = out.resolve()
    for name, folder in protected.items():
        folder = folder.resolve()
        if folder == real_out or folder.is_relative_to(real_out):
            raise KnowrepoError(
                out, f"cannot publish the site here: it would replace {name}; choose another output"
            )
        if name in no_inside and real_out.is_relative_to(folder):
            raise KnowrepoError(out, f"cannot publish the site inside {name}; choose another output")
    if os.path.islink(out):
        if current_version(out) is None:  # (dangling too: a mount to come, say)
            raise KnowrepoError(
                out, "exists and is a symlink knowrepo did not make; remove it or choose another output"
            )
    elif out.is_dir():
        if any(out.iterdir()):
            raise KnowrepoError(
                out,
                "exists and is not a site knowrepo published (knowrepo never replaces a folder it did"
                " not make); move it away or choose another output with -o",
            )
    elif out.exists():
        raise KnowrepoError(out, "exists and is not a folder; remove it or choose another output")
    versions = versions_dir(out)
    if versions.is_dir() and not (versions / MARKER).exists():
        foreign = [c.name for c in versions.iterdir() if not _OURS.match(c.name)]
        if foreign:
            raise KnowrepoError(
                versions,
                f"exists and holds files knowrepo did not make ({foreign[0]}); knowrepo keeps its site"
                " versions in this folder: move it away or choose another output",
            )


class Stager:
    """Writes one new version; files either are new bytes or links to existing files.

    With `recycle`, the new version starts as that older, unpublished version folder (the
    site two builds ago), renamed: its folders already exist (making ~1,000 folders costs
    0.2-0.4 s on a journaling disk) and only what differs is replaced. A file in it is never
    written in place, as it may be a hard link into the published version: it is unlinked and
    made anew. `finish` removes what the new version does not have.

    Paths are plain strings here: staging 5,000 files through pathlib cost more than the
    system calls themselves (measured at 1,000 reports)."""

    def __init__(
        self,
        output: Path,
        previous: Path | None = None,
        recycle: Path | None = None,
        recycled_files: list[str] | None = None,
        recycled_same: set[str] | None = None,
    ) -> None:
        self.output = output
        self.root = versions_dir(output)
        self.root.mkdir(parents=True, exist_ok=True)
        if not (self.root / MARKER).exists():
            (self.root / MARKER).write_text("knowrepo keeps the versions of the site in this folder\n")
        self.dir = self.root / f"v{time.time_ns()}"
        self.recycled = False
        if recycle is not None:
            with contextlib.suppress(OSError):  # gone (a concurrent build took it): start empty
                os.rename(recycle, self.dir)
                self.recycled = True
        if not self.recycled:
            self.dir.mkdir()
        self._dir = str(self.dir)
        self.written = 0
        self.linked = 0
        self._made: set[str] = {self._dir}
        self.files: dict[str, str] = {}  # site path -> content hash (or asset name)
        self.changed: list[str] = []  # site paths written anew (not linked from before)
        self.done: set[str] = set()  # site paths staged
        self.published = False
        self._recycled_files = recycled_files or []
        # Files of the recycled version that are already hard links to the same files of
        # `previous`: linking them again is skipped without a system call (5,000 files: 0.06 s).
        self._same = (recycled_same or set()) if self.recycled else set()
        self._previous = str(previous) if previous else None
        self.fresh: set[str] = set()  # staged files that are not hard links into `previous`

    def _target(self, rel: str) -> str:
        path = os.path.join(self._dir, rel)
        parent = os.path.dirname(path)
        if parent not in self._made:
            try:
                os.makedirs(parent, exist_ok=True)
            except (FileExistsError, NotADirectoryError):  # recycled: a file where a folder goes
                self._clear_way(parent)
                os.makedirs(parent, exist_ok=True)
            self._made.add(parent)
        self.done.add(rel)
        return path

    def _clear_way(self, folder: str) -> None:
        """Remove the files that stand where `folder` (or one of its parents) must be."""
        rel = os.path.relpath(folder, self._dir)
        path = self._dir
        for part in rel.split(os.sep):
            path = os.path.join(path, part)
            if os.path.lexists(path) and not os.path.isdir(path):
                os.unlink(path)

    def write(self, rel: str, data: bytes) -> None:
        target = self._target(rel)
        if self.recycled:
            _clear(target)
        with open(target, "wb") as out:
            out.write(data)
        self.written += 1
        self.changed.append(rel)
        self.fresh.add(rel)

    def link(self, rel: str, source: Path | str) -> None:
        """Hard-link (or copy across file systems) an existing file into the new version."""
        from_previous = self._previous is not None and os.fspath(source) == os.path.join(self._previous, rel)
        if from_previous and rel in self._same:
            self.done.add(rel)
            self.linked += 1
            return
        if place_file(self._target(rel), source, replace=self.recycled) == "copied":
            self.written += 1
            self.fresh.add(rel)
        else:
            self.linked += 1
            if not from_previous:
                self.fresh.add(rel)

    def finish(self, spare: str | None = None) -> None:
        """Recycled: remove the files of the old version that this one did not stage, and the
        folders left empty, but for those under `spare` (a step to come replaces them). The
        old version's file list comes from the manifest: walking ~1,000 folders to find them
        would cost as much as making them."""
        if not self.recycled:
            return
        kept_dirs = {os.path.dirname(rel) for rel in self.done}
        for rel in list(kept_dirs):
            while rel and (rel := os.path.dirname(rel)) not in kept_dirs:
                kept_dirs.add(rel)
        emptied: set[str] = set()
        for rel in self._recycled_files:
            if rel not in self.done and not (spare and rel.startswith(spare)):
                with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
                    os.unlink(os.path.join(self._dir, rel))  # (a folder now: it holds staged files)
                folder = os.path.dirname(rel)
                while folder and folder not in kept_dirs and folder not in emptied:
                    emptied.add(folder)
                    folder = os.path.dirname(folder)
        for folder in sorted(emptied, key=len, reverse=True):  # deepest first
            with contextlib.suppress(OSError):
                os.rmdir(os.path.join(self._dir, folder))

    def all_files(self) -> list[str]:
        """Every file in the version, what others wrote into it (the search index) included."""
        found = set(self.done)
        index = os.path.join(self._dir, "pagefind")
        for dirpath, _dirs, names in os.walk(index):
            base = os.path.relpath(dirpath, self._dir)
            found.update(os.path.join(base, name) for name in names)
        return sorted(found)

    def publish(self) -> None:
        """Point the output at the new version in one atomic step."""
        output = self.output
        if output.is_dir() and not output.is_symlink():
            try:  # an empty folder (check_output refused any other) gives way to the symlink
                output.rmdir()
            except OSError:
                raise KnowrepoError(
                    output, "is a folder knowrepo did not make; nothing was published"
                ) from None
        tmp = output.parent / f".{output.name}.link-{os.getpid()}"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.symlink(os.path.relpath(self.dir, output.parent), tmp)
        os.replace(tmp, output)
        self.published = True

    def discard(self) -> None:
        """Throw the version away, unless it is already the published one."""
        if not self.published:
            shutil.rmtree(self.dir, ignore_errors=True)


def place_file(target: str, source: Path | str, replace: bool = False) -> str:
    """Make `target` a hard link to `source` (a copy across file systems): "linked", "copied",
    or "kept" when it already is that very file. With `replace`, whatever stands at `target` is
    removed first, never written into: it may be a hard link into the published site."""
    if replace:
        try:
            here, there = os.lstat(target), os.stat(source)
        except FileNotFoundError:
            pass
        else:
            if (here.st_ino, here.st_dev) == (there.st_ino, there.st_dev):
                return "kept"
            _clear(target)
    try:
        os.link(source, target)
        return "linked"
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK):
            raise
    shutil.copy2(source, target)
    return "copied"


def _clear(target: str) -> None:
    """Remove what stands at `target` (before it is made anew: never write into a shared inode)."""
    try:
        os.unlink(target)
    except FileNotFoundError:
        pass
    except (IsADirectoryError, PermissionError):
        shutil.rmtree(target)


def prune_versions(output: Path, keep: set[Path]) -> None:
    """Remove every version folder older than the newest kept one, but those in `keep` (the
    current and the previous version). Folders made later (a build staging meanwhile) stay.

    Old versions are renamed into a trash folder at once and deleted by a detached `rm`, so a
    build does not wait for thousands of unlinks (0.3-0.6 s per version at 1,000 reports)."""
    root = versions_dir(output)
    if not root.is_dir():
        return
    keep = {p.resolve() for p in keep}
    newest = max((_made_at(p) for p in keep), default=0)
    trash = root / f".trash-{os.getpid()}-{time.time_ns()}"
    for child in list(root.iterdir()):
        if child.name.startswith((".search-", ".trash-")) or not _OURS.match(child.name):
            continue  # a search index being built right now (it removes itself), trash, or not ours
        if child.resolve() not in keep and _made_at(child) < newest:
            trash.mkdir(exist_ok=True)
            os.rename(child, trash / child.name)
    leftovers = [p for p in root.glob(".trash-*") if p != trash and not _deleting(p)]
    if trash.exists() or leftovers:
        targets = [str(p) for p in [trash, *leftovers] if p.exists()]
        try:
            subprocess.Popen(
                ["rm", "-rf", *targets],
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            for target in targets:
                shutil.rmtree(target, ignore_errors=True)


def _deleting(trash: Path) -> bool:
    """Whether the process that made this trash folder is still alive (and deleting it)."""
    pid = trash.name.split("-")[1]
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _made_at(folder: Path) -> int:
    """The time_ns a version folder was made, from its name (v<ns>, previous-<ns>)."""
    digits = "".join(ch for ch in folder.name if ch.isdigit())
    return int(digits) if digits else 0
