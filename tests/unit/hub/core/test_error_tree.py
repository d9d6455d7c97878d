"""The error tree of ``hub.core.errors`` holds no dead classes.

Every class is made (raised, or built to be raised by the caller, as ``hub.broker.diagnosis``
does) somewhere in ``hub/`` or ``connectors/``; a class never made itself is a category, and
a category must have a made subclass and be caught somewhere (``except`` or ``isinstance``)
or be the declared type of what a function hands back to be raised (``diagnose`` returns a
``KafkaRefusedError``), or it decides nothing and should go.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import hub.core.errors
from hub.core.errors import HubError, TransientError
from hub.routing.route_failures import is_environmental

_ROOT = Path(__file__).resolve().parents[4]
_SOURCES = ("hub", "connectors")
_ERRORS = [
    cls
    for _, cls in inspect.getmembers(hub.core.errors, inspect.isclass)
    if issubclass(cls, BaseException) and cls.__module__ == hub.core.errors.__name__
]


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _names_in(node: ast.expr | None) -> set[str]:
    """The class names of an ``except`` clause or an ``isinstance`` second argument."""
    if node is None:
        return set()
    if isinstance(node, ast.Tuple):
        return {n for item in node.elts for n in _names_in(item)}
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _names_in(node.left) | _names_in(node.right)
    name = _name(node)
    return {name} if name else set()


def _usage(paths: list[Path]) -> tuple[set[str], set[str]]:
    """The exception names made (called or raised) in ``paths``, and those caught or returned
    (named in a return annotation)."""
    made: set[str] = set()
    caught: set[str] = set()
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and node.exc is not None:
                target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                if name := _name(target):
                    made.add(name)
            elif isinstance(node, ast.Call):
                if name := _name(node.func):
                    made.add(name)
                if _name(node.func) == "isinstance" and len(node.args) == 2:
                    caught |= _names_in(node.args[1])
            elif isinstance(node, ast.ExceptHandler):
                caught |= _names_in(node.type)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                caught |= _names_in(node.returns)
    return made, caught


def _sources() -> list[Path]:
    errors = Path(hub.core.errors.__file__).resolve()
    return [
        path
        for package in _SOURCES
        for path in sorted((_ROOT / package).rglob("*.py"))
        if path.resolve() != errors
    ]


_MADE, _CAUGHT = _usage(_sources())


def test_the_walk_finds_the_classes_and_the_sources() -> None:
    assert HubError in _ERRORS
    assert TransientError in _ERRORS
    assert len(_sources()) > 50


@pytest.mark.parametrize("cls", _ERRORS, ids=lambda cls: cls.__name__)
def test_every_error_class_is_raised_or_a_caught_category(cls: type[BaseException]) -> None:
    if cls.__name__ in _MADE:
        return
    made_subclasses = [c.__name__ for c in _ERRORS if c is not cls and issubclass(c, cls)]
    assert any(name in _MADE for name in made_subclasses), (
        f"{cls.__name__} is never raised, nor is any subclass of it: use it or delete it"
    )
    assert cls.__name__ in _CAUGHT, (
        f"{cls.__name__} is only a category (never raised itself) and is never caught nor "
        "returned: nothing decides on it, so it should go"
    )


def test_the_walk_tells_a_dead_class_from_a_live_one(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text(
        "try:\n"
        "    raise Made('x')\n"
        "except (Caught, Other):\n"
        "    pass\n"
        "built = errors.Built('y')\n"
        "if isinstance(exc, Checked | Tested):\n"
        "    pass\n"
        "async def verdict() -> Refused | None:\n"
        "    return None\n",
        encoding="utf-8",
    )
    made, caught = _usage([module])
    assert {"Made", "Built"} <= made
    assert "Dead" not in made
    assert caught == {"Caught", "Other", "Checked", "Tested", "Refused"}


def test_a_transient_error_is_a_failure_of_the_surroundings() -> None:
    # The category's one decision: a route never gives a message up for it.
    assert is_environmental(TransientError("Kafka is away"))
    assert not is_environmental(HubError("a bug"))
