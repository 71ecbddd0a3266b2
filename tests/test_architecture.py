"""The shape of the package: names that say what a module does, once."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import scanner_app

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
