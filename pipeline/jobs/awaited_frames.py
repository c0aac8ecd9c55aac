"""The frames a discover run is fetching for frameset home pages, and which home pages wait for each.

A frameset (or splash) home page is read through its frames: ``home_pages.FrameReading`` says which to fetch and
what they say. While they are fetched, :class:`AwaitedFrames` keeps each such home page's reading and, for each
frame asked, the home pages waiting for it, so that one answer is read for every one of them. In the archive
search one frame may answer several home pages: two URL forms of the home page listed at one second (example.com,
www.example.com) are two captures, read at once, whose frames resolve alike, and one replay (a URL and a second)
answers them all (before 2026-11-28 the second overwrote the first, and the frame's second answer stopped the run
with a KeyError). ``discover --live`` knows a frame by its document, so none is shared.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

from policy_archive.pipeline.jobs.home_pages import FrameReading
from policy_archive.records import Capture, FetchFailure

# A home page being read through its frames: the archive search's capture index, or --live's document.
Home = TypeVar("Home", bound=Hashable)
# What a frame's answer is known by: (frame URL, home page's time) in the archive search, (document, frame URL) live.
Frame = TypeVar("Frame", bound=Hashable)


class AwaitedFrames(Generic[Home, Frame]):
    """Frameset home pages whose frames are being fetched (each one's :class:`FrameReading`), and for each frame
    asked, the home pages waiting for it with the frame's number in their reading. ``frame_of`` says what a home
    page's frame URL is known by when it answers."""

    def __init__(self, frame_of: Callable[[Home, str], Frame]) -> None:
        self.frame_of = frame_of
        self.readings: dict[Home, FrameReading] = {}
        self.waiting: dict[Frame, list[tuple[Home, int]]] = {}

    def __contains__(self, frame: Frame) -> bool:
        return frame in self.waiting

    def reading(self, home: Home) -> FrameReading | None:
        """``home``'s reading while its frames are fetched; None when none are."""
        return self.readings.get(home)

    def reading_waiting_for(self, frame: Frame) -> FrameReading:
        """The reading of a home page waiting for ``frame`` (all of them are at its time)."""
        home, _ = self.waiting[frame][0]
        return self.readings[home]

    def begin(self, home: Home, reading: FrameReading, frames: Sequence[tuple[int, str]]) -> list[str]:
        """``home`` is read through its frames (numbered, as :meth:`FrameReading.follow` gave them): the frame
        URLs to fetch."""
        self.readings[home] = reading
        return self._ask(home, frames)

    def answer(
        self, frame: Frame, result: Capture | FetchFailure, document_type: str
    ) -> list[tuple[Home, list[str] | FrameReading]]:
        """``frame``'s answer, read for each home page waiting for it, in the order they asked: for each, the frame
        URLs it now asks for (the answer was a frameset itself) or, once every frame of it answered, its finished
        reading (no longer kept). A home page still waiting for other frames is left out."""
        said: list[tuple[Home, list[str] | FrameReading]] = []
        for home, number in self.waiting.pop(frame):
            reading = self.readings[home]
            if nested := reading.answer(number, result, document_type):
                said.append((home, self._ask(home, nested)))
            elif reading.done:
                del self.readings[home]
                said.append((home, reading))
        return said

    def _ask(self, home: Home, frames: Sequence[tuple[int, str]]) -> list[str]:
        """Register ``home`` as waiting for ``frames``; the URLs no other home page is waiting for already."""
        asked = []
        for number, url in frames:
            waiting = self.waiting.setdefault(self.frame_of(home, url), [])
            if not waiting:  # else asked already, for another home page at this second
                asked.append(url)
            waiting.append((home, number))
        return list(dict.fromkeys(asked))
