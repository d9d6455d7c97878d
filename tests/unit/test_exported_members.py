"""The public surface is deliberate: every package and module declares ``__all__``."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import pytest

import connectors
import contracts
import hub
import schemas

PACKAGES = (hub, schemas, connectors, contracts)


def _modules() -> list[ModuleType]:
    found: list[ModuleType] = []
    for package in PACKAGES:
        found.append(package)
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if info.name.endswith("__main__"):
                continue
            found.append(importlib.import_module(info.name))
    return found


@pytest.mark.parametrize("module", _modules(), ids=lambda m: m.__name__)
def test_module_declares_all_and_every_name_exists(module: ModuleType) -> None:
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{module.__name__} has no __all__"
    missing = [name for name in exported if not hasattr(module, name)]
    assert not missing, f"{module.__name__}.__all__ names missing members {missing}"


def test_schemas_never_import_the_runtime_or_connectors() -> None:
    for module in _modules():
        if not module.__name__.startswith("schemas"):
            continue
        source = module.__file__
        assert source is not None
        with open(source, encoding="utf-8") as handle:  # noqa: PTH123 - plain read.
            text = handle.read()
        for forbidden in ("import hub", "from hub", "import connectors", "from connectors"):
            assert forbidden not in text, f"{module.__name__}: {forbidden}"
