"""The shipped declarations: ``settings.toml`` and ``services/<service-id>.toml`` (data, not code)."""

from pathlib import Path

SHIPPED_CONFIG_DIR = Path(__file__).resolve().parent
