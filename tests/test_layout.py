"""Layout: imports run one way (core, data, evaluation, runs, paper, cli); git sees every file."""

import ast
import re
import shutil
import subprocess
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tf_lvae"
SOURCE_DIRS = ("tf_lvae", "training", "export", "benchmarks", "tools", "tests")
ORDER = ("core", "data", "evaluation", "runs", "paper", "cli")


def stage(module: str) -> str:
    """The stage of a module like tf_lvae.runs.train (core: the top-level modules)."""
    part = module.split(".")[1] if "." in module else ""
    return part if part in ORDER else "core"


def is_module(name: str) -> bool:
    path = PACKAGE.parent / name.replace(".", "/")
    return path.is_dir() or path.with_suffix(".py").is_file()


def imports(path: Path) -> set[str]:
    """The tf_lvae modules `path` imports (`from a import b` counts as a.b when b is one)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tf_lvae"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if is_module(full) else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("tf_lvae")}
    return found


def test_no_import_runs_back_up():
    backwards = []
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for imported in imports(path):
            if ORDER.index(stage(imported)) > ORDER.index(stage(module)):
                backwards.append(f"{module} imports {imported}")
    assert not backwards, backwards


def test_no_source_file_is_ignored_by_git():
    """A .gitignore rule must never hide a module from the commits (a clean clone lacks it)."""
    root = PACKAGE.parent
    if shutil.which("git") is None or not (root / ".git").exists():
        pytest.skip("not a git checkout")
    sources = [str(p.relative_to(root)) for d in SOURCE_DIRS for p in (root / d).rglob("*.py")]
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", *sources],
        cwd=root,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert not ignored, f"ignored by .gitignore: {ignored}"


PRIVATE_KERAS = re.compile(r"\._flatten_layers\b|\bkeras\.src\b|\._layers\b|\._tracker\b")


def test_the_package_uses_no_private_keras_api():
    """Private names change between Keras releases without notice."""
    found = [
        f"{path.relative_to(PACKAGE.parent)}: {match}"
        for directory in ("tf_lvae", "training", "export")
        for path in (PACKAGE.parent / directory).rglob("*.py")
        for match in PRIVATE_KERAS.findall(path.read_text())
    ]
    assert not found, found


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_loop_of_imports_among_the_packages_modules():
    """Every import counts, those inside functions and under TYPE_CHECKING included."""
    graph = {module_name(p): imports(p) for p in PACKAGE.rglob("*.py")}
    loops, state = [], {}  # state: 1 on the current path, 2 done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for imported in sorted(graph.get(module, ())):
            if state.get(imported) == 1:
                loops.append(" -> ".join([*path[path.index(imported) :], imported]))
            elif imported not in state:
                visit(imported, [*path, imported])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not loops, loops


def test_no_source_file_carries_a_date_of_a_measurement():
    """Dated timings of one machine go stale: they live in docs/results/, not in code."""
    dated = [
        f"{path.relative_to(PACKAGE.parent)}:{number}"
        for directory in ("tf_lvae", "training", "export")
        for path in (PACKAGE.parent / directory).rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"\b20\d\d-\d\d-\d\d\b", line)
    ]
    assert not dated, dated
