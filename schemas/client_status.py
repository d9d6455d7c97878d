"""``fi.paijathame.hub.client-status.v1``: a jobseeker's status changed at a labour authority."""

from __future__ import annotations

import datetime as dt
from typing import Final

from pydantic import AwareDatetime, Field, model_validator

from schemas._base import CanonicalModel, MunicipalityCode
from schemas.codes import Authority, EmploymentStatus, ServiceCode
from schemas.identity_code import PersonalIdentityCode

__all__ = ["CLIENT_STATUS_V1", "ClientStatus", "ServicePeriod"]

CLIENT_STATUS_V1: Final = "fi.paijathame.hub.client-status.v1"


class ServicePeriod(CanonicalModel):
    """A service the jobseeker takes part in (``palvelu``)."""

    code: ServiceCode = Field(description="Service code (palvelu.koodi).")
    start: dt.date = Field(description="First day of the service (alkaa).")
    end: dt.date | None = Field(default=None, description="Last day, if known (paattyy).")

    @model_validator(mode="after")
    def _end_not_before_start(self) -> ServicePeriod:
        if self.end is not None and self.end < self.start:
            raise ValueError("service end is before its start")
        return self


class ClientStatus(CanonicalModel):
    """A change of a jobseeker's employment status (työllisyystilanteen muutos)."""

    change_id: str = Field(
        min_length=1, max_length=100, description="The authority's unique change id (muutosId)."
    )
    authority: Authority = Field(description="The labour authority that made the change.")
    client_number: str | None = Field(
        default=None, max_length=50, description="The authority's client number (asiakasnumero)."
    )
    person_id: PersonalIdentityCode
    home_municipality: MunicipalityCode = Field(description="Home municipality (kotikunta).")
    previous_home_municipality: MunicipalityCode | None = Field(
        default=None,
        description="The home municipality before this change, when this change moved the "
        "person (set by the hub from the person's previous event).",
    )
    employment_status: EmploymentStatus = Field(
        description="Employment status (työllisyystilanne)."
    )
    status_since: dt.date = Field(description="The status applies from (tilanneAlkaa).")
    job_search_active: bool = Field(description="Job search is in force (työnhaku voimassa).")
    service: ServicePeriod | None = Field(
        default=None, description="The service the person is in, if any (palvelu)."
    )
    case_worker: str | None = Field(
        default=None,
        description="Responsible case worker (vastuuvirkailija); internal to the authority.",
    )
    note: str | None = Field(
        default=None, description="Case worker's free-text note (muistiinpano); internal."
    )
    changed_at: AwareDatetime = Field(description="When the change was made (muutettu).")
