"""Typed enums for the decisions code makes on cases.

Code that branches on a case's type, status, a person's role or sex uses these
instead of bare strings; a test keeps each enum equal to its YAML code list.
"""

from __future__ import annotations

import enum


class CaseType(enum.StrEnum):
    TIP = "TIP"
    SOM = "SOM"
    MIXED = "Mixed"
    UNDETERMINED = "Undetermined"


class CaseStatus(enum.StrEnum):
    ACTIVE = "Active"
    FOLLOW_UP = "FollowUp"
    CLOSED = "Closed"
    CLOSED_REFERRED = "ClosedReferred"


class PersonRole(enum.StrEnum):
    VICTIM = "Victim"
    PRESUMED_VICTIM = "PresumedVictim"
    SUSPECT = "Suspect"
    SMUGGLED_MIGRANT = "SmuggledMigrant"
    WITNESS = "Witness"
    OTHER = "Other"

    @property
    def is_victim(self) -> bool:
        """Identified and presumed victims both count as victims for protection."""
        return self in (PersonRole.VICTIM, PersonRole.PRESUMED_VICTIM)


class Sex(enum.StrEnum):
    FEMALE = "Female"
    MALE = "Male"
    INTERSEX = "Intersex"
    UNKNOWN = "Unknown"


class ConsentPurpose(enum.StrEnum):
    """What a person consented to their data being used for (``consent_purposes``).

    HTCDS records consent as one flag (``con_Consent``, tipsom's
    ``consent_given``); the purposes say what that consent covers, and each use
    of personal data that leaves casework checks its own purpose.
    """

    ASSISTANCE = "Assistance"
    REFERRAL = "Referral"
    PROSECUTION = "Prosecution"
    RESEARCH = "Research"
    DATA_SHARING = "DataSharing"


#: Enum per code list, checked against the YAML by the tests.
ENUM_CODELISTS: dict[str, type[enum.StrEnum]] = {
    "case_type": CaseType,
    "case_status": CaseStatus,
    "person_role": PersonRole,
    "sex": Sex,
    "consent_purpose": ConsentPurpose,
}
