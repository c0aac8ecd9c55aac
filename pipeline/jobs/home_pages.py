"""What one home page says about where a site's policy is: which of its listed captures are worth reading, and
the policy link one capture (or today's page) gives (decision 0014; the link itself: pipeline.extraction.links)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from policy_archive.pipeline.extraction.links import LinkChoice, choose_link, link_url, merged, url_key
from policy_archive.pipeline.extraction.refusals import ExtractionRefused
from policy_archive.records import Capture, CaptureRef, Source, iso_z, parse_iso_z

HOME_STATUSES = {200, 301, 302, 303, 307, 308, None}
HOME_MIMETYPES = ("text/html", "application/xhtml", "unk", "warc/revisit")
NO_LINK = "(no link)"
# A frameset home page's links are in its frames: the first few are read, captured at the home page's time (one
# level: a frameset in a frame is not followed). A frame's nearest capture further than FRAME_SPAN from the home
# page's may show other links than the page did then (crawlers fetch a frameset's frames in the same crawl).
FRAMES_FOLLOWED = 3
FRAME_SPAN = timedelta(days=30)


@dataclass(frozen=True)
class Sighting:
    """What one home-page capture said: the linked URL (``None``: no link), its rivals, or why it was unreadable."""

    timestamp: datetime
    url: str | None = None
    text: str = ""
    rivals: tuple[str, ...] = ()
    unreadable: str | None = None
    frames: tuple[str, ...] = ()  # a frameset page's frames to read (never kept in a state file)

    @property
    def key(self) -> str:
        return url_key(self.url) if self.url else NO_LINK

    def to_json(self) -> dict[str, object]:
        kept = {key: value for key, value in asdict(self).items() if key != "frames"}
        return {**kept, "timestamp": iso_z(self.timestamp)}

    @classmethod
    def from_json(cls, raw: dict[str, object]) -> Sighting:
        """A sighting as a state file keeps it, its URLs spelled as a fresh run spells them (``link_url``): a
        state written by an earlier version kept links as the page wrote them (``HTTP://Example.org:80/a%7eb``),
        and a resumed run must give the eras a fresh one gives. Raises ValueError on a URL no run would keep."""
        values = dict(raw)
        values["timestamp"] = parse_iso_z(str(raw["timestamp"]))
        if raw.get("url") is not None:
            values["url"] = _saved_url(raw["url"])
        values["rivals"] = tuple(_saved_url(rival) for rival in raw.get("rivals") or ())  # type: ignore[attr-defined]
        return cls(**values)  # type: ignore[arg-type]


def _saved_url(raw: object) -> str:
    url = link_url(raw) if isinstance(raw, str) else None
    if url is None:
        raise ValueError(f"not a link discovery keeps: {raw!r}")
    return url


def home_page_row(ref: CaptureRef) -> bool:
    """A listed row worth reading as the home page: a page or a redirect, HTML, or a row that does not say."""
    mimetype = (ref.mimetype or "unk").lower()
    return ref.status in HOME_STATUSES and mimetype.startswith(HOME_MIMETYPES)


def read_home_page(capture: Capture, page_url: str, document_type: str, listed_at: datetime) -> Sighting:
    """The policy link of one home-page capture; links resolve against ``page_url``, the page reached after
    archived redirects (a home page often redirects: example.com → www.example.com/en/), or against the page's
    ``<base href>`` (pipeline.extraction.links.document_base). A frameset page is unreadable with its first
    frames (``frames``), which the archive search then reads (:func:`read_frame`, :func:`framed_sighting`)."""
    if capture.status != 200:
        answered = "answered" if capture.source is Source.LIVE else "archived"  # today's page, or a capture
        return Sighting(listed_at, unreadable=f"{answered} with status {capture.status}")
    try:
        choice: LinkChoice = choose_link(capture.body, capture.content_type, page_url, document_type)
    except ExtractionRefused as refusal:  # the parser did not read the whole page (too-deep)
        return Sighting(listed_at, unreadable=str(refusal))
    if choice.frames:
        shown = ", ".join(choice.frames[:FRAMES_FOLLOWED]) + (", …" if len(choice.frames) > FRAMES_FOLLOWED else "")
        reason = f"frameset: links are in frames, which discover does not follow ({shown})"
        return Sighting(listed_at, unreadable=reason, frames=choice.frames[:FRAMES_FOLLOWED])
    if choice.best is None and b"<a" not in capture.body.lower():
        return Sighting(listed_at, unreadable="no links at all (a JavaScript shell or an empty page)")
    return _sighting(listed_at, choice)


def _sighting(listed_at: datetime, choice: LinkChoice) -> Sighting:
    if choice.best is None:
        return Sighting(listed_at)
    rivals = tuple(rival.url for rival in choice.rivals)
    return Sighting(listed_at, choice.best.url, choice.best.text, rivals)


def read_frame(capture: Capture, document_type: str, listed_at: datetime) -> LinkChoice | str:
    """The links of one frame of a frameset home page captured at ``listed_at``; why not, when it cannot say."""
    if capture.status != 200:
        return f"archived with status {capture.status}"
    if abs(capture.captured_at - listed_at) > FRAME_SPAN:
        return f"its nearest capture is {abs(capture.captured_at - listed_at).days} days from the home page's"
    try:
        choice = choose_link(capture.body, capture.content_type, capture.url, document_type)
    except ExtractionRefused as refusal:
        return str(refusal)
    return "a frameset inside a frame (one level is followed)" if choice.frames else choice


def framed_sighting(listed_at: datetime, frames: Sequence[str], readings: Sequence[LinkChoice | str]) -> Sighting:
    """What a frameset home page says, from its frames' readings (in ``frames``' order): their best link, or no
    link when the frames read have none; unreadable, with each frame's reason, when none could be read."""
    choices = [reading for reading in readings if isinstance(reading, LinkChoice)]
    if choices:
        return _sighting(listed_at, merged(choices))
    why = "; ".join(f"{url}: {reason}" for url, reason in zip(frames, readings, strict=True))
    return Sighting(listed_at, unreadable=f"frameset: no frame could be read ({why})")
