"""The HAPI FHIR validator's cache folder: where it is, and what an unfetched one says."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fhir_validator import (
    HAPI_VERSION,
    FhirValidatorMissingError,
    default_dir,
    is_fetched,
    validate,
)


def test_the_cache_is_under_the_users_cache_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("HUB_FHIR_VALIDATOR_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    expected = tmp_path / "paijathame-hub" / f"hapi-fhir-validator-{HAPI_VERSION}"
    assert default_dir() == expected


def test_a_configured_folder_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HUB_FHIR_VALIDATOR_DIR", str(tmp_path / "here"))
    assert default_dir() == tmp_path / "here"


def test_a_folder_without_the_completion_mark_is_not_fetched(tmp_path: Path) -> None:
    (tmp_path / "jars").mkdir()
    assert not is_fetched(tmp_path)
    (tmp_path / ".complete").write_text(HAPI_VERSION, encoding="utf-8")
    assert is_fetched(tmp_path)


def test_validating_without_the_validator_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(FhirValidatorMissingError, match="run `make test`"):
        validate({"x": b"{}"}, tmp_path, target=tmp_path)
