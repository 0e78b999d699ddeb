"""Exception types of the analysis library; callers map each to a clear message."""


class AnalysisError(Exception):
    """Base of every error the analysis library raises on purpose."""


class SkeletonFormatError(AnalysisError):
    """Bytes that are not a valid serialised SkeletonSequence."""


class SkeletonValidationError(AnalysisError):
    """Arrays that violate the SkeletonSequence contract (shape, NaN, time order)."""


class ImplausibleSkeletonError(SkeletonValidationError):
    """A well-formed skeleton whose body is impossible (e.g. absurd bone lengths)."""


class MeasureUnavailableError(AnalysisError):
    """A clinical measure needs joints this skeleton does not observe."""
