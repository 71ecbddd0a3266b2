"""The shape of the package: names that say what a module does; layers that only point down."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import scanner_app

REPOSITORY = Path(scanner_app.__file__).parent.parent

#: Names that several modules may share: the same role in sibling feature packages
#: (each feature's blueprint, forms, models, commands), and packages themselves.
SAME_ROLE_NAMES = frozenset({"__init__.py", "routes.py", "forms.py", "models.py", "cli.py"})


def modules_by_name(root: Path) -> dict[str, list[str]]:
    """Every module under ``root`` by its file name, as paths relative to ``root``."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(root.rglob("*.py")):
        found[path.name].append(str(path.relative_to(root)))
    return found


def test_no_two_modules_share_a_name_unless_they_play_the_same_role() -> None:
    root = Path(scanner_app.__file__).parent
    clashes = {
        name: paths
        for name, paths in modules_by_name(root).items()
        if len(paths) > 1 and name not in SAME_ROLE_NAMES
    }
    assert clashes == {}


def test_the_check_sees_a_clash(tmp_path: Path) -> None:
    for package in ("web", "scan"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "throttle.py").touch()
        (tmp_path / package / "routes.py").touch()
    found = modules_by_name(tmp_path)
    assert found["throttle.py"] == ["scan/throttle.py", "web/throttle.py"]
    assert "routes.py" in SAME_ROLE_NAMES and "throttle.py" not in SAME_ROLE_NAMES


def run_import_linter(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``lint-imports`` from this environment in ``cwd``; its result."""
    command = [str(Path(sys.executable).with_name("lint-imports")), "--no-cache", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_every_import_linter_contract_is_kept() -> None:
    """The layers only point down and no cycle hides anywhere: the contracts in pyproject.toml."""
    result = run_import_linter(cwd=REPOSITORY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " BROKEN" not in result.stdout


def test_import_linter_sees_an_upward_import(tmp_path: Path) -> None:
    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").touch()
    (package / "low.py").write_text("def helper():\n    from shop import high\n")
    (package / "high.py").write_text("from shop import low\n")
    (tmp_path / ".importlinter").write_text(
        "[importlinter]\nroot_package = shop\n\n"
        "[importlinter:contract:layers]\nname = layers\ntype = layers\n"
        "layers =\n    shop.high\n    shop.low\n"
    )
    result = run_import_linter(cwd=tmp_path)
    assert result.returncode != 0
    assert "shop.low -> shop.high" in result.stdout


#: Files that their tools load by path, not by import: outside import-linter's graph.
LOADED_BY_PATH = {
    "wsgi": "wsgi.py",
    "gunicorn.conf": "gunicorn.conf.py",
    "scanner_app.db.migrations": "scanner_app/db/migrations/",
}


def imported_names(path: Path, package: str) -> set[str]:
    """The absolute names of the modules ``path`` (a module of ``package``) imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_no_import_reaches_a_file_loaded_by_path_so_no_cycle_runs_through_one() -> None:
    """gunicorn.conf.py, wsgi.py and the migrations are loaded by their tools; as long as no
    module imports them, no cycle can pass through them (import-linter sees the rest)."""
    reached = {}
    for root in ("scanner_app", "bench", "tests"):
        for path in sorted((REPOSITORY / root).rglob("*.py")):
            relative = path.relative_to(REPOSITORY)
            if str(relative).startswith(LOADED_BY_PATH["scanner_app.db.migrations"]):
                continue
            package = ".".join(relative.with_suffix("").parts[:-1])
            for name in imported_names(path, package):
                if any(name == aim or name.startswith(f"{aim}.") for aim in LOADED_BY_PATH):
                    reached[str(relative)] = name
    assert reached == {}
    for file in LOADED_BY_PATH.values():
        assert (REPOSITORY / file).exists(), file


def test_the_by_path_check_resolves_relative_imports(tmp_path: Path) -> None:
    module = tmp_path / "door.py"
    module.write_text("from .migrations import env\nfrom . import tables\nimport wsgi\n")
    names = imported_names(module, "scanner_app.db")
    assert {"scanner_app.db.migrations", "scanner_app.db.tables", "wsgi"} <= names
