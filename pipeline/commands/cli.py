"""The `policy-archive` command line: one click group; each command lives in the module of its kind
(collect, browse, publish, configure), and the work in the pipeline modules.

Exit status: 0 all fine; 1 some documents failed (each named on stderr with its reason); 2 usage or
configuration error (nothing written).
"""

from __future__ import annotations

import click

from policy_archive.lost_output import lost_output_discarded
from policy_archive.pipeline.commands.browse import diff, log, show, status
from policy_archive.pipeline.commands.collect import backfill, reextract, repair, schedule, track
from policy_archive.pipeline.commands.common import VERBOSITY, Context, add_verbosity_options, show_waits
from policy_archive.pipeline.commands.configure import discover, extract, import_ota, init, validate
from policy_archive.pipeline.commands.publish import export, report_site, verify
from policy_archive.stop_signals import stop_signals_handled


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_dir",
    metavar="DIR",
    help="Configuration directory [default: env POLICY_ARCHIVE_CONFIG if set, else ./config].",
)
@click.option(
    "--data",
    "data_dir",
    metavar="DIR",
    help="Data directory [default: env POLICY_ARCHIVE_DATA if set, else the setting archive.data_dir].",
)
@click.version_option(package_name="policy-archive")
@click.pass_context
def main(ctx: click.Context, config_dir: str | None, data_dir: str | None) -> None:
    """Track how websites' legal documents change over time, as a dated Git history."""
    if ctx.invoked_subcommand in (*STOPPED_CLEANLY, "schedule"):
        # Its output's reader going away (a scheduler killed, a terminal closed) does not end it before its run is
        # noted: its later output is discarded (policy_archive/lost_output.py).
        ctx.with_resource(lost_output_discarded())
    if ctx.invoked_subcommand in STOPPED_CLEANLY:
        # Before the command's own imports (Scrapy's take seconds on a loaded machine): a SIGTERM or Ctrl-C from
        # here on ends it as an interrupted run, never as a kill (policy_archive/stop_signals.py).
        ctx.with_resource(stop_signals_handled())
    ctx.obj = Context(config_dir, data_dir)
    ctx.obj.verbosity = ctx.meta.get(VERBOSITY, 0)
    show_waits(ctx.obj.verbosity == 0)


# The commands that write and may run long: each handles SIGTERM and SIGINT from its start to its end. (`schedule`
# has its own handling, passing the signal to the running `track`; `init` and `import-ota` write a few files.)
# `export` writes a file or repository elsewhere, whole or not at all (pipeline/exports/_output.py, ota.py); `report`
# writes each file whole and its state last (pipeline/webreport/build.py).
STOPPED_CLEANLY = ("backfill", "track", "reextract", "repair", "discover", "export", "report")
COMMANDS = (
    *(backfill, track, schedule, log, show, diff, export, report_site, verify, extract, reextract, discover),
    *(import_ota, init, repair, validate, status),
)
for _command in COMMANDS:
    main.add_command(_command)
for _command in (main, *COMMANDS):
    add_verbosity_options(_command)


if __name__ == "__main__":
    main()
