"""The layers of docs/architecture.md hold: no import reaches up a layer, none closes a cycle.

The contracts are import-linter's, in pyproject's ``[tool.importlinter]``; import-linter
(through grimp) counts every import, those inside functions included. The tests below run
them on the hub, and on small packages in ``tmp_path`` laid out by the same contracts, to show
that each kind of violation breaks them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"


def _config() -> dict[str, Any]:
    with PYPROJECT.open("rb") as handle:
        config: dict[str, Any] = tomllib.load(handle)["tool"]["importlinter"]
    return config


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter over the packages under ``root``, with ``root/pyproject.toml``."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())",
            "--no-cache",
            "--no-logo",
            str(root / "pyproject.toml"),
        ],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        check=False,
    )


def _named_modules(config: dict[str, Any]) -> set[str]:
    """Every module a contract names (the layers, the independent and forbidden modules)."""
    names = set(config["root_packages"])
    for contract in config["contracts"]:
        for layer in contract.get("layers", []):
            names.update(part.strip() for part in re.split(r"[|:]", layer))
        for key in ("modules", "source_modules", "forbidden_modules", "ancestors"):
            names.update(contract.get(key, []))
    return names


def _stub_tree(root: Path) -> None:
    """Empty packages for every module the contracts name, and the project's contracts."""
    for name in _named_modules(_config()):
        package = root.joinpath(*name.split("."))
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").touch()
    (root / "pyproject.toml").write_text(PYPROJECT.read_text(encoding="utf-8"), encoding="utf-8")


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        (root / relative).write_text(text, encoding="utf-8")


def test_the_hub_keeps_its_layers() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_package_of_the_hub_is_in_a_layer() -> None:
    layered = _named_modules(_config())
    children = {
        f"hub.{path.stem if path.suffix == '.py' else path.name}"
        for path in (ROOT / "hub").iterdir()
        if (path.suffix == ".py" and path.stem not in {"__init__", "__main__"})
        or (path / "__init__.py").is_file()
    }
    assert children - layered == set()


def test_the_stub_tree_alone_keeps_the_contracts(tmp_path: Path) -> None:
    """The control for the cases below: their failures come from the import they add."""
    _stub_tree(tmp_path)
    result = _lint(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def _up(importer: str, imported: str) -> str:
    return f"{importer} is not allowed to import {imported}"


# An import inside a function (as the CLI's are) counts like one at the top.
_LAZY = "def now() -> None:\n    import hub.routing\n"
_ROUTING = "from hub.routing import pipeline\n"
_KELA = "connectors/kela/wiring.py"
_CYCLE = {
    "hub/console/pages.py": "import hub.console.forms\n",
    "hub/console/forms.py": "import hub.console.pages\n",
}

#: id: (files written into the stub tree, what the report must say)
VIOLATIONS: dict[str, tuple[dict[str, str], str]] = {
    "core-imports-routing-lazily": ({"hub/core/clock.py": _LAZY}, _up("hub.core", "hub.routing")),
    "audit-imports-routing": ({"hub/audit/replay.py": _ROUTING}, _up("hub.audit", "hub.routing")),
    "share-to-connectors": (
        {"hub/share/x.py": "import connectors"},
        _up("hub.share", "connectors"),
    ),
    "kela-to-sote": ({_KELA: "import connectors.sote"}, _up("connectors.kela", "connectors.sote")),
    "kela-skips-the-api": ({_KELA: _ROUTING}, _up("connectors", "hub.routing")),
    "cycle-inside-a-package": (_CYCLE, "No cycles are allowed in hub.console"),
}


@pytest.mark.parametrize("case", VIOLATIONS)
def test_a_violating_import_breaks_the_contracts(tmp_path: Path, case: str) -> None:
    files, broken = VIOLATIONS[case]
    _stub_tree(tmp_path)
    _write(tmp_path, files)
    result = _lint(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert broken in result.stdout
