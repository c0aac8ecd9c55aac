"""Git processes act on the repository policy-archive names, never on one the environment names, and are out of
reach of the terminal's signals.

Git reads these variables before ``-C`` and the working directory: run from a Git hook (which sets ``GIT_DIR``,
``GIT_INDEX_FILE``, ``GIT_OBJECT_DIRECTORY`` ...) or from a shell that exported one, every ``git`` policy-archive
starts would read and write *that* repository (its index, its objects, its refs) instead of ``data/versions``
or an export. GitPython reads some of them itself when it opens a repository, and starts every git process from
a copy of ``os.environ`` with no way to leave a variable out (GitPython 3.2.1, checked 2026-11): so they are
dropped from this process's environment before any repository is opened, by :func:`forget_outside_repository`.
The user's identity and configuration (``GIT_AUTHOR_*``, ``~/.gitconfig``) stay out of commits as before: the
version store writes its own identity into every commit.

Every git child is started in a session of its own (:data:`OWN_SESSION`, ``setsid``): a Ctrl-C at the terminal is
SIGINT to the whole foreground process group, which a child of ours would otherwise be in, and git dies mid-write
(a ref update aborted, a fast-import cut short) although the command's own stop handling
(``policy_archive.stop_signals``) means to finish the document in hand first. ``timeout`` sends its signal to its
process group too. In a session of its own git gets no signal from the terminal (SIGINT, SIGQUIT, SIGTSTP, SIGHUP)
and has no controlling terminal: a process group of its own (``process_group=0``) would do for the signals, but a
git (or a hook) in a background group of the terminal's session is stopped by SIGTTIN if it reads the terminal, and
waits for ever. Killed ourselves (SIGKILL, a second stop signal), we leave no git running for long: a git we feed
(``fast-import``, ``cat-file --batch``) reads the end of its input and ends, ``fast-import`` without committing a
stream cut short (``--done``); one we read (``log``) ends at its next write to the closed pipe; any other finishes
what it was doing (a ref update, a checkout), which is what the next run wants to find. No
``prctl(PR_SET_PDEATHSIG)``: it would kill git mid-write when we die, the very thing avoided here, and a
``preexec_fn`` is unsafe with our threads (the fast-import writer).
"""

from __future__ import annotations

import os
from typing import Any

# What `git rev-parse --local-env-vars` lists (git 2.39, 2026-11; the variables git itself drops before running
# a command in another repository, e.g. a submodule), plus GIT_NAMESPACE (moves every ref under
# refs/namespaces/) and GIT_QUARANTINE_PATH (a pre-receive hook's: git then refuses to update refs).
REPOSITORY_VARIABLES = (
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_OBJECT_DIRECTORY",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_GRAFT_FILE",
    "GIT_INDEX_FILE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_REPLACE_REF_BASE",
    "GIT_PREFIX",
    "GIT_INTERNAL_SUPER_PREFIX",
    "GIT_SHALLOW_FILE",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_QUARANTINE_PATH",
)


# Keyword arguments of ``subprocess.Popen`` for every git child (module docstring); GitPython passes them on too.
OWN_SESSION: dict[str, Any] = {"start_new_session": True}


def forget_outside_repository() -> None:
    """Drop from this process's environment every variable that would make git use another repository."""
    for name in REPOSITORY_VARIABLES:
        os.environ.pop(name, None)
