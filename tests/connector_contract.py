"""The contract every inbound route keeps, as one base class each connector's tests subclass.

Whatever bytes a partner sends, a route's ``translate`` (what ``hub up`` runs for a consumed
message) returns and never raises. A ``Rejection`` gives a reason from the route's documented
set (model drift excluded: ``tests.fuzz.properties``) and a detail without an identity code;
an ``Accepted`` publishes valid canonical events to the route's canonical topics, keyed by the
pseudonymous subject, with keys and headers free of identity codes (a route that publishes
partner messages, such as distribution, checks them in its own ``check_published``). The
valid examples are accepted and published.

A subclass names the routes and their inputs; the base class holds the properties:

* ``test_arbitrary_bytes_get_a_documented_answer``: any bytes;
* ``test_near_valid_inputs_get_a_documented_answer``: once per strategy of
  ``near_valid_inputs`` (structure-aware breakage of the examples, values of the wrong kind);
* ``test_mutated_examples_get_a_documented_answer``: byte-level mutations of every example,
  valid and rejected, with their identity codes planted;
* ``test_valid_examples_are_accepted``: ``accepted_examples`` in order, on fresh state, each
  published.

The hypothesis properties run under ``tests.fuzz.profiles`` (a moderate count in ``make
test``, 10,000 inputs in ``python -m bench.fuzz``) and are counted in the fuzz tally under
``parser``. Every answer is abandoned after its checks, so every input meets the same state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.routing.pipeline import Accepted, Route
from schemas.envelope import CloudEvent
from tests.fuzz.corpus import codes_in_seeds
from tests.fuzz.hostile_values import FuzzInput
from tests.fuzz.mutations import mutated
from tests.fuzz.profiles import fuzz_settings
from tests.fuzz.properties import Translated, check_accepted, translated

__all__ = ["ConnectorContract"]


def _contract_settings() -> settings:
    # Every subclass runs the same hypothesis-wrapped method on its own instances, which
    # hypothesis reports as "differing executors"; the instances hold no state (the routes
    # live in a class-scoped fixture), so the warning's worry does not apply.
    profile = fuzz_settings()
    return settings(
        profile,
        suppress_health_check=[*profile.suppress_health_check, HealthCheck.differing_executors],
    )


class ConnectorContract:
    """Subclass as ``Test<Route>``; set the class variables and implement ``build_routes``,
    ``seeds`` and ``accepted_examples`` (the rest have defaults)."""

    #: How the fuzz tally names the routes' inputs.
    parser: ClassVar[str]
    #: Every reason a rejection may give (``tests.fuzz.properties.known_reasons``).
    reasons: ClassVar[frozenset[str]]
    #: Each topic the routes may publish to, with its event model.
    canonical: ClassVar[Mapping[str, type[CloudEvent[Any]]]]

    def build_routes(self, data_dir: Path) -> Sequence[Route]:
        """The routes under test, on connector state in the fresh ``data_dir`` (with what the
        routes need to find there beyond their own inputs, such as sent referrals)."""
        raise NotImplementedError

    def seeds(self) -> Sequence[bytes]:
        """Every example input, valid and rejected: what the mutations start from."""
        raise NotImplementedError

    def accepted_examples(self) -> Sequence[tuple[str, bytes]]:
        """(route's connector name, input) pairs each accepted and published, in this order,
        by routes fresh from ``build_routes``."""
        raise NotImplementedError

    def near_valid_inputs(self) -> Mapping[str, st.SearchStrategy[FuzzInput]]:
        """Named strategies of inputs close to valid ones; a property runs per name."""
        return {}

    def prime(self, routes: Sequence[Route]) -> None:
        """Bring fresh routes to the state the properties run in: by default each has seen
        every seed (so a changed copy of a valid one is a conflicting duplicate)."""
        for route in routes:
            for seed in self.seeds():
                outcome = route.translate(seed)
                if isinstance(outcome, Accepted):
                    outcome.settle()

    def check_published(self, accepted: Accepted, planted: frozenset[str]) -> None:
        """What an accepted input publishes is right: by default valid canonical events
        (``tests.fuzz.properties.check_accepted``)."""
        check_accepted(accepted, self.canonical, planted)

    def after_accepted(self, route: Route, raw: bytes) -> Callable[[Translated], None]:
        """A further check of an accepted ``raw``, run before it is abandoned."""
        return lambda _outcome: None

    # --- machinery ---------------------------------------------------------------------------

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """One ``test_near_valid_inputs_get_a_documented_answer`` per named strategy."""
        if "near_valid" in metafunc.fixturenames:
            metafunc.parametrize("near_valid", sorted(self.near_valid_inputs()))

    # Class-scoped fixtures are class methods (pytest runs each test on a new instance); the
    # hooks are instance methods, called on an instance of their own.
    @pytest.fixture(scope="class")
    @classmethod
    def routes(cls, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Route]:
        """The primed routes by connector name, for the whole class."""
        contract = cls()
        built = contract.build_routes(tmp_path_factory.mktemp(cls.__name__))
        contract.prime(built)
        return {route.connector: route for route in built}

    @pytest.fixture(scope="class")
    @classmethod
    def strategies(cls) -> dict[str, st.SearchStrategy[FuzzInput]]:
        """``near_valid_inputs``, built once per class."""
        return dict(cls().near_valid_inputs())

    def _answer(self, routes: dict[str, Route], data: st.DataObject, fuzz: FuzzInput) -> None:
        route = routes[data.draw(st.sampled_from(sorted(routes)), label="route")]
        then = self.after_accepted(route, fuzz.raw)
        translated(
            self.parser, route, fuzz, self.reasons, self.canonical, then, self.check_published
        )

    # --- the properties ------------------------------------------------------------------------

    @_contract_settings()
    @given(data=st.data())
    def test_arbitrary_bytes_get_a_documented_answer(
        self, routes: dict[str, Route], data: st.DataObject
    ) -> None:
        raw = data.draw(st.binary(max_size=2000), label="bytes")
        self._answer(routes, data, FuzzInput(raw, frozenset()))

    @_contract_settings()
    @given(data=st.data())
    def test_near_valid_inputs_get_a_documented_answer(
        self,
        routes: dict[str, Route],
        strategies: dict[str, st.SearchStrategy[FuzzInput]],
        near_valid: str,
        data: st.DataObject,
    ) -> None:
        self._answer(routes, data, data.draw(strategies[near_valid], label=near_valid))

    @_contract_settings()
    @given(data=st.data())
    def test_mutated_examples_get_a_documented_answer(
        self, routes: dict[str, Route], data: st.DataObject
    ) -> None:
        seeds = self.seeds()
        raw = data.draw(mutated(seeds), label="mutated example")
        self._answer(routes, data, FuzzInput(raw, codes_in_seeds(tuple(seeds))))

    def test_valid_examples_are_accepted(self, tmp_path: Path) -> None:
        routes = {route.connector: route for route in self.build_routes(tmp_path)}
        examples = self.accepted_examples()
        assert examples, "a route needs at least one valid example"
        for connector, raw in examples:
            outcome = routes[connector].translate(raw)
            assert isinstance(outcome, Accepted), (connector, raw, outcome)
            assert outcome.messages, (connector, raw, "published nothing")
            self.check_published(outcome, codes_in_seeds((raw,)))
            outcome.settle()
