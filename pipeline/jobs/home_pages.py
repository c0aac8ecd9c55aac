"""What one home page says about where a site's policy is: which of its listed captures are worth reading, and
the policy link one capture (or today's page) gives (decision 0014; the link itself: pipeline.extraction.links)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from policy_archive.pipeline.extraction.links import LinkChoice, choose_link, link_url, url_key
from policy_archive.pipeline.extraction.refusals import ExtractionRefused
from policy_archive.records import Capture, CaptureRef, Source, iso_z, parse_iso_z

HOME_STATUSES = {200, 301, 302, 303, 307, 308, None}
HOME_MIMETYPES = ("text/html", "application/xhtml", "unk", "warc/revisit")
NO_LINK = "(no link)"
FRAMES_SHOWN = 3  # a frameset page's frames named in its reason


@dataclass(frozen=True)
class Sighting:
    """What one home-page capture said: the linked URL (``None``: no link), its rivals, or why it was unreadable."""

    timestamp: datetime
    url: str | None = None
    text: str = ""
    rivals: tuple[str, ...] = ()
    unreadable: str | None = None

    @property
    def key(self) -> str:
        return url_key(self.url) if self.url else NO_LINK

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "timestamp": iso_z(self.timestamp)}

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
    ``<base href>`` (pipeline.extraction.links.document_base)."""
    if capture.status != 200:
        answered = "answered" if capture.source is Source.LIVE else "archived"  # today's page, or a capture
        return Sighting(listed_at, unreadable=f"{answered} with status {capture.status}")
    try:
        choice: LinkChoice = choose_link(capture.body, capture.content_type, page_url, document_type)
    except ExtractionRefused as refusal:  # the parser did not read the whole page (too-deep)
        return Sighting(listed_at, unreadable=str(refusal))
    if choice.frames:
        # Following frames would read another capture per frame, each at its own time; not done (yet): the
        # capture is named among those not read, never a silent "no link" (acceptance report 4, finding 4).
        shown = ", ".join(choice.frames[:FRAMES_SHOWN]) + (", …" if len(choice.frames) > FRAMES_SHOWN else "")
        return Sighting(
            listed_at, unreadable=f"frameset: links are in frames, which discover does not follow ({shown})"
        )
    if choice.best is None and b"<a" not in capture.body.lower():
        return Sighting(listed_at, unreadable="no links at all (a JavaScript shell or an empty page)")
    if choice.best is None:
        return Sighting(listed_at)
    rivals = tuple(rival.url for rival in choice.rivals)
    return Sighting(listed_at, choice.best.url, choice.best.text, rivals)
