"""What a run reports: versions recorded, documents that failed (with why), and notes."""

from __future__ import annotations

from dataclasses import dataclass, field

from policy_archive.records import RecordedVersion


@dataclass(frozen=True)
class DocumentFailure:
    document: str
    reason: str


@dataclass(frozen=True)
class RunReport:
    recorded: list[RecordedVersion]
    failures: list[DocumentFailure]
    notes: list[str] = field(default_factory=list)

    @property
    def exit_status(self) -> int:
        return 1 if self.failures else 0

    def summary(self) -> str:
        return f"{len(self.recorded)} versions recorded, {len(self.failures)} documents failed"
