"""The base every canonical model shares."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CanonicalModel", "MunicipalityCode", "trusted"]

ModelT = TypeVar("ModelT", bound=BaseModel)


def trusted(model: type[ModelT], fields: dict[str, Any]) -> ModelT:
    """An instance of ``model`` holding ``fields`` as they are, without validation.

    For a per-record hot path whose values have passed checks at least as strict as the
    model's (a test of the caller compares the result with a validated build): what
    ``model_construct`` does, without its per-field alias and default look-ups. ``fields``
    names every field of the model, defaults included, in declaration order, and nothing else.
    """
    instance = model.__new__(model)
    object.__setattr__(instance, "__dict__", fields)
    object.__setattr__(instance, "__pydantic_fields_set__", set(fields))
    object.__setattr__(instance, "__pydantic_extra__", None)
    object.__setattr__(instance, "__pydantic_private__", None)
    return instance


class CanonicalModel(BaseModel):
    """Frozen, closed, and never echoing input values in validation errors.

    ``hide_input_in_errors`` matters: a pydantic error message would otherwise quote the
    offending value, which may be an identity code, into logs and dead-letter details.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        hide_input_in_errors=True,
        use_enum_values=False,
        ser_json_timedelta="iso8601",
    )


MunicipalityCode = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{3}$",
        description="Statistics Finland 3-digit municipality code (kuntanumero), e.g. 398 Lahti.",
    ),
]
