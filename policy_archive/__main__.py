"""``python -m policy_archive``: the same command line as the ``policy-archive`` script."""

from policy_archive.pipeline.commands.cli import main

if __name__ == "__main__":
    main()
