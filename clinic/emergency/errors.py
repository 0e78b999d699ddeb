"""Why an emergency access request or review was refused."""


class EmergencyAccessError(Exception):
    """Base of every refusal of the break-glass path."""


class EmergencyRoleError(EmergencyAccessError):
    """Only therapists may break the glass; only administrators review."""


class EmergencyReasonError(EmergencyAccessError):
    """The stated reason is missing or too short to be reviewed meaningfully."""


class EmergencyAccessNotNeededError(EmergencyAccessError):
    """The therapist is already on the patient's care team: ordinary access applies."""


class EmergencyPatientNotFoundError(EmergencyAccessError):
    """No patient with this id exists."""


class EmergencyReviewError(EmergencyAccessError):
    """The grant cannot be reviewed (unknown, or already reviewed)."""
