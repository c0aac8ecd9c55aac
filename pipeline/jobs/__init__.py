"""The jobs: backfill, track and reextract, and what they share (examining a capture, change guards, workspace)."""
