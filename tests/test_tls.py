"""`termgate serve` answers https itself when TERMGATE_TLS_CERT_FILE and TERMGATE_TLS_KEY_FILE
are set; a certificate or key it could not use is refused before the port opens, in one line
naming the setting, and nothing of the key is ever printed."""

from __future__ import annotations

import ssl
import subprocess
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from cryptography.x509.oid import NameOID

from tests.conftest import free_port
from tests.support.processes import spawn, stop, wait_until_answering
from tests.test_startup_checks import CLI, migrated_sqlite, serve_refused


def write_pair(
    folder: Path, *, valid_from: datetime | None = None, days: int = 30
) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "termgate test")])
    start = valid_from or datetime.now(UTC) - timedelta(minutes=5)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(Encoding.PEM))
    key_file.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return cert_file, key_file


def test_serve_answers_healthz_over_https_with_the_configured_certificate(
    tmp_path: Path,
) -> None:
    cert_file, key_file = write_pair(tmp_path / "tls")
    port = free_port()
    env = {
        "TERMGATE_PORT": str(port),
        "TERMGATE_VAR_DIR": str(tmp_path / "var"),
        "TERMGATE_DATABASE_URL": migrated_sqlite(tmp_path),
        "TERMGATE_UPSTREAM_URL": f"http://127.0.0.1:{free_port()}",
        "TERMGATE_TLS_CERT_FILE": str(cert_file),
        "TERMGATE_TLS_KEY_FILE": str(key_file),
    }
    process: subprocess.Popen[bytes] = spawn(CLI, env)
    try:
        wait_until_answering(f"tcp://127.0.0.1:{port}", process)
        trusting = ssl.create_default_context(cafile=str(cert_file))
        answer = httpx.get(f"https://127.0.0.1:{port}/healthz", verify=trusting, timeout=10)
        assert answer.status_code == 200, answer.text
        with pytest.raises(httpx.ConnectError):  # a client that does not trust it is refused
            httpx.get(f"https://127.0.0.1:{port}/healthz", timeout=10)
        with pytest.raises(httpx.TransportError):  # and plain http is not served
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
    finally:
        output = stop(process)
    assert "Traceback" not in output, output
    assert "PRIVATE KEY" not in output


def tls_refused(tmp_path: Path, cert_file: Path, key_file: Path) -> str:
    return serve_refused(
        tmp_path,
        CLI,
        database_url=migrated_sqlite(tmp_path),
        tls_cert_file=str(cert_file),
        tls_key_file=str(key_file),
    )


def test_a_key_that_is_not_the_certificates_is_refused(tmp_path: Path) -> None:
    cert_file, _ = write_pair(tmp_path / "one")
    _, other_key = write_pair(tmp_path / "two")
    line = tls_refused(tmp_path, cert_file, other_key)
    assert line.startswith("error: TERMGATE_TLS_KEY_FILE:"), line
    assert "is not the key of the certificate" in line, line


def test_an_unreadable_certificate_file_is_named(tmp_path: Path) -> None:
    _, key_file = write_pair(tmp_path / "tls")
    line = tls_refused(tmp_path, tmp_path / "absent.pem", key_file)
    assert line.startswith("error: TERMGATE_TLS_CERT_FILE: cannot read"), line


def test_files_that_are_not_pem_are_refused_without_showing_their_content(
    tmp_path: Path,
) -> None:
    cert_file, key_file = write_pair(tmp_path / "tls")
    cert_file.write_text("SENTINEL not a certificate\x00\x1b[31m")
    line = tls_refused(tmp_path, cert_file, key_file)
    assert line.startswith("error: TERMGATE_TLS_CERT_FILE:"), line
    assert "holds no PEM certificate" in line
    assert "SENTINEL" not in line


def test_an_encrypted_key_is_refused_with_what_to_do(tmp_path: Path) -> None:
    cert_file, key_file = write_pair(tmp_path / "tls")
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(key_file.read_bytes(), password=None)
    key_file.write_bytes(
        key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(b"pw"))
    )
    line = tls_refused(tmp_path, cert_file, key_file)
    assert line.startswith("error: TERMGATE_TLS_KEY_FILE:"), line
    assert "is encrypted" in line, line


def test_an_expired_certificate_is_refused(tmp_path: Path) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=400)
    cert_file, key_file = write_pair(tmp_path / "tls", valid_from=long_ago, days=30)
    line = tls_refused(tmp_path, cert_file, key_file)
    assert line.startswith("error: TERMGATE_TLS_CERT_FILE:"), line
    assert "not now" in line, line


def test_a_certificate_without_its_key_is_a_configuration_error(tmp_path: Path) -> None:
    cert_file, _ = write_pair(tmp_path / "tls")
    line = serve_refused(
        tmp_path, CLI, database_url=migrated_sqlite(tmp_path), tls_cert_file=str(cert_file)
    )
    assert line == "error: bad configuration", line
