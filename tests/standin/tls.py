"""A TLS server on 127.0.0.1 that trickles its handshake (tests/test_exchange.py, tests/test_notify.py): a real
handshake, by :mod:`ssl` with a certificate made for the test, its bytes sent one at a time ``every`` seconds apart,
so that the client's handshake never ends while it waits (about 800 bytes: over a minute at 0.1 s a byte).

The certificate is made with ``cryptography``, installed with pyOpenSSL (a dependency: Scrapy's TLS); the only
module of the tests that uses it.
"""

from __future__ import annotations

import datetime
import socket
import ssl
import tempfile
import threading
from pathlib import Path
from types import TracebackType

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from standin.sockets import RawSocketServer


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, signed by its own key, valid from yesterday to tomorrow: (certificate, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = directory / "certificate.pem", directory / "key.pem"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return certificate_path, key_path


class TricklingHandshake(RawSocketServer):
    """``.hello``: set once a client's first handshake bytes have arrived (it is then waiting for the server's);
    ``.hung_up``: set when a client closed the connection before the handshake was out; ``.handshaken``: set if
    one ever ended. Sends nothing more once ``__exit__`` is reached."""

    def __init__(self, every: float = 0.1):
        self.every = every
        self.hello = threading.Event()
        self.hung_up = threading.Event()
        self.handshaken = threading.Event()
        self._closing = threading.Event()
        self._directory = tempfile.TemporaryDirectory(prefix="trickling-handshake-")
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(*self_signed(Path(self._directory.name)))
        super().__init__()
        self.origin = f"https://127.0.0.1:{self.port}"

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
            tls = self._context.wrap_bio(incoming, outgoing, server_side=True)
            unsent = b""
            try:
                while not self._closing.is_set():
                    # What the client sent since (nothing, once its hello is in): waited for one step at most.
                    connection.settimeout(0 if unsent else self.every)
                    try:
                        data = connection.recv(65536)
                    except (BlockingIOError, TimeoutError):
                        data = None
                    if data == b"":
                        self.hung_up.set()
                        return
                    if data:
                        incoming.write(data)
                        self.hello.set()
                    try:
                        tls.do_handshake()
                    except ssl.SSLWantReadError:
                        pass
                    else:
                        self.handshaken.set()
                        return
                    unsent += outgoing.read()
                    if unsent:
                        connection.sendall(unsent[:1])
                        unsent = unsent[1:]
                        self._closing.wait(self.every)
            except OSError:  # a reset, a broken pipe, the client giving the handshake up (ssl.SSLError)
                self.hung_up.set()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._closing.set()
        super().__exit__(kind, error, tb)
        self._directory.cleanup()
