"""``--source`` URIs → FrameSource, and the list of attached cameras.

| URI | source |
|---|---|
| ``realsense://`` / ``realsense://SERIAL`` | live RealSense (first / by serial) |
| ``realsense:PATH`` | RealSense recording (.bag, .db3) |
| ``…?align=1`` (either RealSense form) | the SDK's ``rs.align`` + filters on whole frames |
| ``kinect://N`` | live Azure Kinect / Orbbec Femto (K4A) device N |
| ``kinect:PATH.mkv`` | Azure Kinect recording |
| ``webcam:N`` | OpenCV camera N (colour only) |
| ``video:PATH`` | video file (colour only) |
| ``synthetic:[?k=v&...]`` | rendered UI-PRMD motion (see capture_agent.synthetic.source) |

Backends are imported lazily: a machine without pyrealsense2 can still play
a video.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from capture_agent.sources.base import DeviceInfo, FrameSource, SourceError, SourceURIError

SCHEMES = ("realsense", "kinect", "webcam", "video", "synthetic")


def open_source(uri: str) -> FrameSource:
    """The (unopened) FrameSource a URI names; raises SourceURIError for a bad URI."""
    if ":" not in uri:
        raise SourceURIError(
            f"source {uri!r} has no scheme; use one of {', '.join(s + ':' for s in SCHEMES)}"
        )
    scheme, rest = uri.split(":", 1)
    scheme = scheme.lower()
    if scheme == "realsense":
        from capture_agent.sources.realsense import RealSenseSource

        rest, align = _realsense_options(rest)
        options = {"align": align, "filters": align}
        if rest.startswith("//"):
            return RealSenseSource(serial=rest[2:], uri=uri, **options)
        if not rest:
            raise SourceURIError("realsense: needs a recording path or //SERIAL")
        return RealSenseSource(path=rest, uri=uri, **options)
    if scheme == "kinect":
        from capture_agent.sources.kinect import KinectSource

        if rest.startswith("//"):
            index = rest[2:] or "0"
            if not index.isdigit():
                raise SourceURIError(f"kinect://N needs a device number, got {index!r}")
            return KinectSource(device_index=int(index), uri=uri)
        if not rest.lower().endswith(".mkv"):
            raise SourceURIError(f"kinect: recordings are .mkv files, got {rest!r}")
        return KinectSource(path=rest, uri=uri)
    if scheme == "webcam":
        from capture_agent.sources.opencv_source import OpenCVSource

        index = rest or "0"
        if not index.isdigit():
            raise SourceURIError(f"webcam:N needs a camera number, got {index!r}")
        return OpenCVSource(index=int(index), uri=uri)
    if scheme == "video":
        from capture_agent.sources.opencv_source import OpenCVSource

        if not rest:
            raise SourceURIError("video: needs a file path")
        return OpenCVSource(path=rest, uri=uri)
    if scheme == "synthetic":
        from capture_agent.synthetic.source import SyntheticSource

        return SyntheticSource.from_uri(uri)
    raise SourceURIError(f"unknown source scheme {scheme!r}; known: {', '.join(SCHEMES)}")


def _realsense_options(rest: str) -> tuple[str, bool]:
    """``PATH?align=1`` → (PATH, True). Only ``align`` (0/1) is known."""
    if "?" not in rest:
        return rest, False
    rest, query = rest.rsplit("?", 1)
    params = parse_qs(query, keep_blank_values=True)
    unknown = set(params) - {"align"}
    if unknown:
        raise SourceURIError(
            f"realsense source: unknown option {', '.join(sorted(unknown))}; known: align"
        )
    value = params.get("align", ["0"])[-1]
    if value not in ("0", "1"):
        raise SourceURIError(f"realsense source: align={value!r} must be 0 or 1")
    return rest, value == "1"


def list_devices() -> tuple[list[DeviceInfo], list[str]]:
    """Attached cameras of every kind, and one line per backend that could not be asked."""
    from capture_agent.sources.kinect import list_kinect_devices
    from capture_agent.sources.opencv_source import list_webcams
    from capture_agent.sources.realsense import list_realsense_devices

    devices: list[DeviceInfo] = []
    problems: list[str] = []
    for name, lister in (
        ("RealSense", list_realsense_devices),
        ("Azure Kinect", list_kinect_devices),
        ("webcam", list_webcams),
    ):
        try:
            devices.extend(lister())
        except SourceError as exc:
            problems.append(f"{name}: {exc}")
    return devices, problems
