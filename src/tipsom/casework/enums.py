"""The decisions casework records, as typed values.

Every status, kind and outcome is a ``StrEnum``: stored as its text (readable
in a database dump and in exports), compared as a type in code, so a typo is
a mypy error and never a silently unmatched row.
"""

from __future__ import annotations

import enum


class Service(enum.StrEnum):
    """What an organisation offers: the HTCDS ``spl_Type`` values and tipsom's extensions,
    plus the services victims most often wait for that neither list names."""

    EDUCATION = "Education"
    FINANCIAL = "Financial"
    HEALTH = "Health"
    LABOUR_EXPLOITATION_REHABILITATION = "LabourExploitationRehabilitation"
    LEGAL = "Legal"
    LIVELIHOOD = "Livelihood"
    RIGHTS_BASED_TRAINING = "RightsBasedTraining"
    SEXUAL_EXPLOITATION_REHABILITATION = "SexualExploitationRehabilitation"
    SOCIAL_CARE = "SocialCare"
    SHELTER = "Shelter"
    GUARDIANSHIP = "Guardianship"
    RETURN_AND_REINTEGRATION = "ReturnAndReintegration"
    LEGAL_AID = "LegalAid"
    INTERPRETATION = "Interpretation"
    FAMILY_TRACING = "FamilyTracing"
    REPATRIATION_SUPPORT = "RepatriationSupport"
    PSYCHOSOCIAL_CARE = "PsychosocialCare"
    SHELTER_FOR_CHILDREN = "ShelterForChildren"


class ReferralReason(enum.StrEnum):
    """HTCDS ``cas_ReasonForOutgoingReferral``."""

    ADDITIONAL_SERVICES_REQUIRED = "AdditionalServicesRequired"
    MIGRATION_OR_CHANGE_OF_LOCATION = "MigrationOrChangeOfLocation"
    OTHER = "Other"


class Urgency(enum.StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    #: Danger to life or a child alone: the receiving organisation answers the same day.
    EMERGENCY = "emergency"


class ReferralStatus(enum.StrEnum):
    """``draft → sent → accepted | declined → completed``; ``cancelled`` from draft, sent or accepted."""

    DRAFT = "draft"
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    @property
    def open(self) -> bool:
        """Still needs someone to act: closing a case with an open referral would strand the victim."""
        return self in (ReferralStatus.DRAFT, ReferralStatus.SENT, ReferralStatus.ACCEPTED)


class PlanItemKind(enum.StrEnum):
    GOAL = "goal"
    ACTION = "action"


class PlanStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class AssessmentKind(enum.StrEnum):
    NEEDS = "needs"
    RISK = "risk"
    #: Best-interests assessment of a child (UNHCR/UNICEF BIP guidelines).
    BIA = "bia"
    #: Best-interests determination: the formal decision, taken with the child's guardian.
    BID = "bid"
    AGE = "age"


class AgeMethod(enum.StrEnum):
    """How an age was assessed; holistic interviews come first, medical methods last (EASO guidance)."""

    DOCUMENTS = "documents"
    INTERVIEW = "interview"
    HOLISTIC = "holistic"
    MEDICAL = "medical"


class NrmStage(enum.StrEnum):
    REASONABLE_GROUNDS = "reasonable_grounds"
    CONCLUSIVE_GROUNDS = "conclusive_grounds"


class NrmOutcome(enum.StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"


class ApprovalSubject(enum.StrEnum):
    CASE_PLAN = "case_plan"
    CLOSURE = "closure"


class ApprovalDecision(enum.StrEnum):
    APPROVED = "approved"
    REFUSED = "refused"


class ViolenceType(enum.StrEnum):
    """Conflict-related forms of trafficking named in UNSCR 2331 (2016) and 2388 (2017)."""

    SEXUAL_VIOLENCE = "sexual_violence"
    SEXUAL_SLAVERY = "sexual_slavery"
    FORCED_MARRIAGE = "forced_marriage"
    CHILD_RECRUITMENT = "child_recruitment"
    FORCED_LABOUR = "forced_labour"
    ABDUCTION = "abduction"
    OTHER = "other"


class DueKind(enum.StrEnum):
    """What a line of ``casework due`` is about."""

    TASK = "task"
    REFERRAL_ANSWER = "referral_answer"
    NRM_REASONABLE_GROUNDS = "nrm_reasonable_grounds"
    NRM_CONCLUSIVE_GROUNDS = "nrm_conclusive_grounds"
    RECOVERY_PERIOD_END = "recovery_period_end"
