"""Run by every Python process the tests start (this folder is first on their ``PYTHONPATH``): the offline guard
(offline_guard.py; inert without its variable), then the ``sitecustomize`` this one hides, if any (Debian's, a
test's own), as Python would have run it."""

import importlib.machinery
import importlib.util
import os
import sys

import offline_guard

offline_guard.start_guarded()

_others = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != offline_guard.HERE]
_spec = importlib.machinery.PathFinder.find_spec("sitecustomize", _others)
if _spec is not None and _spec.loader is not None:
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["sitecustomize"] = _module
    _spec.loader.exec_module(_module)
