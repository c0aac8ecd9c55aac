"""The offline guard of the tests, in the pytest process and in every Python process the tests start.

The tests talk only to 127.0.0.1 (README, "What the end-to-end tests prove"). In the pytest process
``tests/conftest.py``'s ``no_name_server`` fixture applies :func:`guarded`; every other Python process a test
starts (the CLI, the stand-in servers, the scheduler's runs, pywb in its own venv) applies it at start-up from
``sitecustomize.py`` in this folder, which the test session puts first on ``PYTHONPATH``. There it is inert unless
:data:`VARIABLE` names the file the guarded process writes what it was refused to: the test session sets it, the
product never reads it. The test whose run wrote a line there fails (conftest reads the file after each test).

Refused: a name lookup that would ask the name server (``getaddrinfo``, ``gethostbyname[_ex]``, ``gethostbyaddr``
of a name; not localhost nor an address literal), and a connection to an address that is not the local host's
(``connect``/``connect_ex`` of an INET socket: loopback and the unspecified address are let through). A test that
needs a name answers it from a table (tests/standin/fixed_dns.py). A process in which the refusal is expected can
still work: the lookup fails as a name that does not exist (EAI_NONAME), the connection as an unreachable network.

Chromium does not run Python: :data:`CHROMIUM_ARGS` are its own rules to the same effect, added to the product's
launch arguments (``policy_archive.crawler.render.CHROMIUM_ARGS``) in a guarded process, and given by the tests that
launch Chromium themselves.

Standard library only, and Python 3.8 syntax: pywb's venv imports this module too.
"""

from __future__ import annotations

import _socket
import errno
import ipaddress
import os
import socket
import sys
from collections.abc import Callable
from typing import Any

VARIABLE = "POLICY_ARCHIVE_TEST_OFFLINE"  # the file a guarded subprocess writes its refusals to
HERE = os.path.dirname(os.path.abspath(__file__))
RENDER_MODULE = "policy_archive.crawler.render"

# Chromium's host resolver answers every name "not found" but the loopback address (and Chromium's own
# "localhost", answered without a lookup): a request or connection Chromium makes by itself (not answered by
# the product's routes) cannot reach another host. The rules are applied to address literals as well (Chromium's
# MappedHostResolver, as of Chromium 131): http://127.0.0.2/ is refused too, which is how tests/test_offline.py
# sees the rules work without the internet.
CHROMIUM_ARGS = ("--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",)


def literal(host: str) -> str | None:
    """The address ``host`` spells without a lookup (any spelling the C library reads as an IPv4 address too,
    as ``crawler.hosts.literal_address`` does), or None for a name."""
    name = host.strip("[]").split("%", 1)[0]
    name = name[:-1] if name.endswith(".") and not name.endswith("..") else name
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        pass
    if not name or not all(character.isalnum() or character == "." for character in name):
        return None
    try:
        return str(ipaddress.IPv4Address(socket.inet_aton(name)))
    except OSError:
        return None


def local_name(host: object) -> bool:
    """Whether a lookup of ``host`` asks no name server: none, an address literal, or localhost (RFC 6761)."""
    name = host.decode("ascii", "replace") if isinstance(host, (bytes, bytearray)) else host
    if not isinstance(name, str) or not name:
        return True
    name = name.strip("[]").rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost") or literal(name) is not None


def local_address(host: object) -> bool:
    """Whether connecting to ``host`` (an INET socket address's host) stays on this machine."""
    name = host.decode("ascii", "replace") if isinstance(host, (bytes, bytearray)) else host
    if not isinstance(name, str) or not name:
        return True
    address = literal(name)
    if address is None:
        return local_name(name)  # a name: connect() looks it up itself
    ip = ipaddress.ip_address(address)
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or ip.is_unspecified or (mapped is not None and (mapped.is_loopback or mapped.is_unspecified))


def guarded(report: Callable[[str], None]) -> list[tuple[Any, str, Any]]:
    """``(owner, name, replacement)`` for ``socket``'s and ``_socket``'s lookup functions and ``socket.socket``'s
    connect methods, refusing what goes off this machine and calling ``report`` with what they refused. ``_socket``'s
    too: a library with sockets of its own (gevent, which pywb's ``wayback`` patches in) looks names up there."""
    lookups = ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr")
    connect_system = socket.socket.connect
    connect_ex_system = socket.socket.connect_ex

    def lookup(system: Callable[..., Any]) -> Callable[..., Any]:
        def guard(host: Any, *args: Any, **kwargs: Any) -> Any:
            if not local_name(host):
                report(f"looked up {host!s}")
                raise socket.gaierror(
                    socket.EAI_NONAME, f"{host!s}: a test may not ask the name server (offline guard)"
                )
            return system(host, *args, **kwargs)

        return guard

    def off_machine(sock: socket.socket, address: Any) -> str | None:
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple) or not address:
            return None
        host = address[0]
        if local_address(host):
            return None
        return f"connected to {host!s}" if literal(str(host)) is not None else f"looked up {host!s}"

    def connect(self: socket.socket, address: Any) -> None:
        refused = off_machine(self, address)
        if refused is not None:
            report(refused)
            raise OSError(errno.ENETUNREACH, f"{address[0]}: a test may reach only this machine (offline guard)")
        return connect_system(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        refused = off_machine(self, address)
        if refused is not None:
            report(refused)
            return errno.ENETUNREACH
        return connect_ex_system(self, address)

    replacements = [(owner, name, lookup(getattr(owner, name))) for owner in (socket, _socket) for name in lookups]
    return [*replacements, (socket.socket, "connect", connect), (socket.socket, "connect_ex", connect_ex)]


def install(replacements: list[tuple[Any, str, Any]]) -> None:
    """Put :func:`guarded`'s replacements in place for good (a subprocess: it lives for one test)."""
    for owner, name, replacement in replacements:
        setattr(owner, name, replacement)


def report_to(path: str) -> Callable[[str], None]:
    """A ``report`` appending one line per refusal to ``path`` (one write of a short line each: whole even with
    several processes at once), naming the process; said on stderr too."""
    who = f"pid {os.getpid()}: {' '.join(sys.argv)[:200] or sys.executable}"

    def report(what: str) -> None:
        line = f"{what} ({who})\n"
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(descriptor, line.encode("utf-8", "replace"))
            finally:
                os.close(descriptor)
        except OSError:
            pass  # the session is over; the refusal itself still fails the call
        print(f"offline guard: {line}", end="", file=sys.stderr, flush=True)

    return report


def add_chromium_args(module: Any) -> None:
    """Add :data:`CHROMIUM_ARGS` to the product's Chromium launch arguments (once)."""
    present = tuple(getattr(module, "CHROMIUM_ARGS", ()))
    module.CHROMIUM_ARGS = present + tuple(arg for arg in CHROMIUM_ARGS if arg not in present)


class _RenderArguments:
    """An import hook: when the product's render module is loaded, its Chromium arguments get :data:`CHROMIUM_ARGS`."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != RENDER_MODULE:
            return None
        import importlib.machinery

        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader = spec.loader
        run = loader.exec_module

        def exec_module(module: Any) -> None:
            run(module)
            add_chromium_args(module)

        loader.exec_module = exec_module
        return spec


def guard_chromium() -> None:
    """Chromium launched by the product in this process (now or once its render module is imported) is offline."""
    if RENDER_MODULE in sys.modules:
        add_chromium_args(sys.modules[RENDER_MODULE])
    elif not any(isinstance(finder, _RenderArguments) for finder in sys.meta_path):
        sys.meta_path.insert(0, _RenderArguments())


def start_guarded() -> None:
    """In a subprocess of the tests, at start-up: the guard, if the test session asked for it (:data:`VARIABLE`)."""
    path = os.environ.get(VARIABLE)
    if not path:
        return
    install(guarded(report_to(path)))
    guard_chromium()
