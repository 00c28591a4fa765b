"""Media links derived from a RingCentral message's attachments (spec: http-contact-logging §4.3).

Connectors never dig through Message Store attachments themselves: the framework hands them
ready-made links for voicemail audio, fax documents and MMS images/videos. Download links carry
the RingCentral access token the client sent, so they are computed here and never logged or stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote

from appconnect.jsvalues import js_str_absent

MEDIA_READER = "https://ringcentral.github.io/ringcentral-media-reader/?media="

# What JavaScript's encodeURIComponent leaves alone besides letters, digits and "-_.~".
_URI_COMPONENT_SAFE = "!~*'()"


@dataclass(frozen=True, slots=True)
class MessageMedia:
    """The connector keyword arguments for one message; ``None`` where the message has none."""

    recording_link: str | None = None
    fax_doc_link: str | None = None
    fax_download_link: str | None = None
    image_link: str | None = None
    image_download_link: str | None = None
    image_content_type: str | None = None
    video_link: str | None = None

    def for_create(self) -> dict[str, Any]:
        return asdict(self)

    def for_update(self) -> dict[str, Any]:
        """Updates get only the MMS fields (the reference passes no voicemail or fax links)."""
        return {
            "image_link": self.image_link,
            "image_download_link": self.image_download_link,
            "image_content_type": self.image_content_type,
            "video_link": self.video_link,
        }


def encode_uri_component(value: str) -> str:
    """JavaScript's ``encodeURIComponent`` (UTF-8 percent-encoding)."""
    return quote(value, safe=_URI_COMPONENT_SAFE)


def media_reader_link(uri: Any) -> str:
    return MEDIA_READER + encode_uri_component(js_str_absent(uri))


def _attachments(message: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = message.get("attachments")
    if not isinstance(found, list):
        return []
    return [a for a in found if isinstance(a, Mapping)]


def _first_of_type(attachments: list[Mapping[str, Any]], kind: str) -> Mapping[str, Any] | None:
    return next((a for a in attachments if a.get("type") == kind), None)


def _first_mms(attachments: list[Mapping[str, Any]], prefix: str) -> Mapping[str, Any] | None:
    """The first MMS attachment whose content type starts with ``prefix``.

    Scans in order and stops at the match, like the reference's ``find``; an MMS attachment
    without a content type met on the way is an error there, and is one here.
    """
    for attachment in attachments:
        if attachment.get("type") != "MmsAttachment":
            continue
        content_type = attachment.get("contentType")
        if not isinstance(content_type, str):
            raise TypeError("MmsAttachment without contentType")
        if content_type.startswith(prefix):
            return attachment
    return None


def _download(uri: Any, token: str) -> str:
    return f"{js_str_absent(uri)}?access_token={token}"


def derive_media(message: Mapping[str, Any], rc_access_token: Any) -> MessageMedia:
    """Links for one message; download links and the image type need ``rc_access_token``."""
    attachments = _attachments(message)
    token = rc_access_token if isinstance(rc_access_token, str) and rc_access_token else None

    recording = _first_of_type(attachments, "AudioRecording")
    fax = _first_of_type(attachments, "RenderedDocument") if token else None
    image = _first_mms(attachments, "image/")
    video = _first_mms(attachments, "video/")
    return MessageMedia(
        recording_link=recording.get("link") if recording else None,
        fax_doc_link=fax.get("link") if fax else None,
        fax_download_link=_download(fax.get("uri"), token) if fax and token else None,
        image_link=media_reader_link(image.get("uri")) if image else None,
        image_download_link=_download(image.get("uri"), token) if image and token else None,
        image_content_type=image.get("contentType") if image and token else None,
        video_link=media_reader_link(video.get("uri")) if video else None,
    )
