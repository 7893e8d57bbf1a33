"""The shape of the code itself: no function too long or too branchy to follow (issue 12); no
module too long, imports that point one way down the layers, no cycle of imports, and an import
inside a function only where a comment says why it pays (issue 25)."""

from __future__ import annotations

import ast
import graphlib
import itertools
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from conftest import PROJECT

MAX_LINES = 60
MAX_COMPLEXITY = 15
MAX_MODULE_LINES = 500


def test_no_function_is_longer_than_sixty_lines():
    long = []
    for path in (PROJECT / "knowrepo").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                if lines > MAX_LINES:
                    long.append(f"{path.relative_to(PROJECT)}:{node.lineno} {node.name} ({lines} lines)")
    assert long == []


def test_no_function_is_more_complex_than_fifteen():
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--select", "C901", "--config",
         f"lint.mccabe.max-complexity = {MAX_COMPLEXITY}", "knowrepo"],
        cwd=PROJECT, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_an_import_in_a_function_says_why_it_waits():
    """An import stands at the top of its module, unless a comment (on it, on another import
    of its block, or on the line above the block) says why it pays to import it only there:
    a heavy library kept off the commands' start, the no-op build or the processes that do
    not use it."""
    silent = []
    for path in sorted((PROJECT / "knowrepo").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for first, last in _import_blocks_in_functions(ast.parse("\n".join(lines))):
            if not any("#" in line for line in lines[first - 2 : last]):
                silent.append(f"{path.relative_to(PROJECT)}:{first}: {lines[first - 1].strip()}")
    assert silent == [], "imports in functions that say not why:\n" + "\n".join(silent)


def _import_blocks_in_functions(tree: ast.Module) -> list[tuple[int, int]]:
    """(first line, last line) of each run of import statements inside a function."""
    blocks: list[tuple[int, int]] = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for body in _bodies(function):
            for node in body:
                if not isinstance(node, ast.Import | ast.ImportFrom):
                    continue
                end = node.end_lineno or node.lineno
                if blocks and blocks[-1][1] >= node.lineno - 2 and blocks[-1][0] < node.lineno:
                    blocks[-1] = (blocks[-1][0], end)  # (the next import of the block, a blank line apart)
                else:
                    blocks.append((node.lineno, end))
    return sorted(set(blocks))


def _bodies(function: ast.AST) -> list[list[ast.stmt]]:
    """The statement lists of a function, its nested blocks' too (not nested functions')."""
    found, todo = [], [function]
    while todo:
        node = todo.pop()
        for field in ("body", "orelse", "finalbody", "handlers"):
            statements = getattr(node, field, None)
            if isinstance(statements, list) and statements and isinstance(statements[0], ast.AST):
                found.append([s for s in statements if isinstance(s, ast.stmt)])
                todo += [s for s in statements if not isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)]
    return found


def test_no_module_is_longer_than_five_hundred_lines():
    long = [
        f"{path.relative_to(PROJECT)} ({lines} lines)"
        for path in sorted((PROJECT / "knowrepo").rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    assert long == []


# ---- the layers -------------------------------------------------------------------------------

# The import contract, top to bottom: a module imports modules of its own layer and of the layers
# below it, never of one above; the names in one tuple are siblings that never import each other.
# A module belongs to the longest name here that is it or a package holding it ("knowrepo" is the
# package's own __init__.py). Every import counts: at the top, in a function, under TYPE_CHECKING.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("knowrepo.__main__",),
    ("knowrepo.commands",),  # parse, call, print; knowrepo's process entries: they load the registry
    ("knowrepo.loader",),  # load_registry(): knowrepo's own parts, then the plugins'
    ("knowrepo.builtins",),  # knowrepo's own parts, registered as a plugin registers its own
    ("knowrepo.preview", "knowrepo.exports"),
    ("knowrepo.pipeline.build",),  # the stages, in order
    ("knowrepo.pipeline.stages",),  # what each stage does with the BuildState
    ("knowrepo.pipeline.incremental",),  # what a rebuild must redo
    ("knowrepo.pipeline.state",),  # the BuildState
    ("knowrepo.pipeline",),  # the parts, which know nothing of a build's state
    ("knowrepo.config",),
    ("knowrepo.plugins",),  # the registry: it holds the parts, and imports none
    ("knowrepo.support", "knowrepo.model"),
    ("knowrepo.errors", "knowrepo"),
)
ROOT = "knowrepo"


@dataclass(frozen=True)
class Import:
    importer: str  # the importing module's name
    imported: str  # the imported module's name
    where: str  # the import statement's file and line


def imports_of(root: Path, package: str = ROOT) -> list[Import]:
    """Every import of a module of `package` by another (the ast of each file: nothing runs)."""
    files = {_module_name(path, root): path for path in sorted((root / package).rglob("*.py"))}
    found = []
    for name, path in files.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for target in _targets(node, name if path.name == "__init__.py" else name.rpartition(".")[0]):
                while target and target not in files:  # (`from m import name`: the module m)
                    target = target.rpartition(".")[0]
                if target and target != name:
                    found.append(Import(name, target, f"{path.relative_to(root)}:{node.lineno}"))
    return found


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _targets(node: ast.AST, package: str) -> list[str]:
    """What an import statement names: modules, or modules' attributes."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:  # relative to the importer's package
        for _up in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}".rstrip(".")
    return [f"{base}.{alias.name}" for alias in node.names]


def layer_of(module: str) -> tuple[int, str]:
    """(the module's layer, counted from the top; the name in LAYERS it belongs by)."""
    held = [
        (index, name)
        for index, names in enumerate(LAYERS)
        for name in names
        if module == name or (name != ROOT and module.startswith(name + "."))
    ]
    assert held, f"{module} is in no layer: say where it sits in LAYERS (tests/test_code.py)"
    return max(held, key=lambda layer: len(layer[1]))


def layer_violations(imports: list[Import]) -> list[str]:
    """Each import of a module above the importer's layer, or of a sibling's, as one line."""
    found = []
    for one in imports:
        (mine, name), (theirs, other) = layer_of(one.importer), layer_of(one.imported)
        if theirs < mine:
            found.append(
                f"{one.where}: {one.importer} imports {one.imported}, of the layer above it ({other})"
            )
        elif theirs == mine and name != other:
            found.append(
                f"{one.where}: {one.importer} imports {one.imported}; {name} and {other} are siblings"
            )
    return found


def import_cycle(imports: list[Import]) -> list[str]:
    """One cycle of imports, a line per import in it ([] when there is none)."""
    needs: dict[str, set[str]] = {}
    where: dict[tuple[str, str], str] = {}
    for one in imports:
        needs.setdefault(one.importer, set()).add(one.imported)
        where.setdefault((one.importer, one.imported), one.where)
    try:
        graphlib.TopologicalSorter(needs).prepare()
    except graphlib.CycleError as cycle:
        # (each node of the cycle is imported by the next: read backwards, each imports the next)
        path = list(reversed(cycle.args[1]))
        return [f"{where[a, b]}: {a} imports {b}" for a, b in itertools.pairwise(path)]
    return []


def test_imports_point_down_the_layers():
    violations = layer_violations(imports_of(PROJECT))
    assert violations == [], "imports up the layers (see LAYERS):\n" + "\n".join(violations)


def test_no_import_cycle():
    cycle = import_cycle(imports_of(PROJECT))
    assert cycle == [], "a cycle of imports:\n" + "\n".join(cycle)


def test_the_contract_names_an_import_up_the_layers_and_a_cycle(tmp_path: Path):
    """A planted violation of each kind fails the tests above, naming the import."""
    files = {
        "knowrepo/__init__.py": "",
        "knowrepo/commands/__init__.py": "",
        "knowrepo/exports/__init__.py": "import knowrepo.preview\n",
        "knowrepo/preview/__init__.py": "",
        "knowrepo/pipeline/__init__.py": "",
        "knowrepo/pipeline/state.py": "import typing\nif typing.TYPE_CHECKING:\n    from . import a\n",
        "knowrepo/pipeline/a.py": "def f():\n    from knowrepo.commands import g\n    from .b import h\n",
        "knowrepo/pipeline/b.py": "from knowrepo.pipeline.state import X\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    imports = imports_of(tmp_path)
    assert layer_violations(imports) == [
        "knowrepo/exports/__init__.py:1: knowrepo.exports imports knowrepo.preview; knowrepo.exports"
        " and knowrepo.preview are siblings",
        "knowrepo/pipeline/a.py:2: knowrepo.pipeline.a imports knowrepo.commands, of the layer above it"
        " (knowrepo.commands)",
        "knowrepo/pipeline/b.py:1: knowrepo.pipeline.b imports knowrepo.pipeline.state, of the layer above"
        " it (knowrepo.pipeline.state)",
    ]
    cycle = import_cycle(imports)
    assert sorted(cycle) == [
        "knowrepo/pipeline/a.py:3: knowrepo.pipeline.a imports knowrepo.pipeline.b",
        "knowrepo/pipeline/b.py:1: knowrepo.pipeline.b imports knowrepo.pipeline.state",
        "knowrepo/pipeline/state.py:3: knowrepo.pipeline.state imports knowrepo.pipeline.a",
    ]
