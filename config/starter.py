"""``policy-archive init``: a commented starter configuration for a user who installed the tool elsewhere."""

from __future__ import annotations

from pathlib import Path

from policy_archive.config import SHIPPED_CONFIG_DIR
from policy_archive.errors import ConfigurationError

EXAMPLE_SERVICE = "acrcloud"
EXAMPLE_SERVICE_TOML = """\
# One service per file. The file name without .toml is the service id ([a-z0-9][a-z0-9.-]*): it names the
# documents on the command line (acrcloud/privacy-policy) and their files in the versions repository.
name = "ACRCloud"                          # display name, used in commit subjects

[documents.privacy-policy]                 # document id: privacy-policy, terms-of-service, cookie-policy, ...
url = "https://www.acrcloud.com/privacy"
# select = ["main"]                        # CSS selectors of the document body [default: found automatically]
# remove = [".cookie-banner"]              # CSS selectors dropped before extraction
# render = "auto"                          # headless Chromium: auto (for a JavaScript shell) | always | never

# Where the document lived before, oldest first (backfill uses each entry for captures up to valid_until):
# [[documents.privacy-policy.history]]
# url = "https://www.acrcloud.com/privacy.html"
# select = ["#content"]
# valid_until = "2016-05-01"               # inclusive
"""


def write_starter_configuration(directory: Path, force: bool = False) -> list[Path]:
    """Write ``settings.toml`` (every default, commented) and one example service into ``directory``.

    Refuses to replace existing files unless ``force``; returns the files written.
    """
    settings = directory / "settings.toml"
    example = directory / "services" / f"{EXAMPLE_SERVICE}.toml"
    existing = [path for path in (settings, example) if path.exists()]
    if existing and not force:
        names = ", ".join(str(path) for path in existing)
        raise ConfigurationError(f"{names}: already exists (use --force to replace)")
    if directory.exists() and not directory.is_dir():
        raise ConfigurationError(f"{directory}: exists and is not a directory")
    example.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text((SHIPPED_CONFIG_DIR / "settings.toml").read_text(encoding="utf-8"), encoding="utf-8")
    example.write_text(EXAMPLE_SERVICE_TOML, encoding="utf-8")
    return [settings, example]
