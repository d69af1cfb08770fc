"""``deploy/nginx.conf`` run for real on this machine, in front of local instances.

Used by the fleet benchmark (``bench/fleet.py``) and by ``tests/test_proxy.py``.
The shipped file is rendered with only its addresses, ports, certificate and
paths replaced; every replacement must match, so a change to the file that
the rendering no longer fits fails loudly instead of testing something else.
"""

from __future__ import annotations

import getpass
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

# The benchmark runs from a checkout, beside deploy/.
CONFIG = Path(__file__).resolve().parent.parent / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
_UPSTREAM_SERVER = re.compile(r"^(\s*)server \d+\.\d+\.\d+\.\d+:8000( [^;]*);\n", re.M)


class NginxError(RuntimeError):
    pass


def _replace(text: str, old: str, new: str, count: int = 1) -> str:
    found = text.count(old)
    if found != count:
        raise NginxError(f"deploy/nginx.conf: expected {count} x {old!r}, found {found}")
    return text.replace(old, new)


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key (openssl)."""
    cert, key = directory / "fullchain.pem", directory / "privkey.pem"
    command = [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ]
    subprocess.run(  # noqa: S603
        [OPENSSL, *command, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def render(config: str, directory: Path, port: int, http_port: int, upstreams: list[int]) -> str:
    """The shipped config, listening on 127.0.0.1 and proxying to local ports."""
    text = _replace(config, "user www-data;\n", f"user {getpass.getuser()};\n")
    if os.geteuid() != 0:  # only root switches users
        text = _replace(text, f"user {getpass.getuser()};\n", "")
    # At most what this machine lets a process open (nginx fails to raise it past that).
    files = min(65536, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    text = _replace(text, "worker_rlimit_nofile 65536;", f"worker_rlimit_nofile {files};")
    text = _replace(text, "pid /run/nginx.pid;", f"pid {directory}/nginx.pid;")
    text = _replace(text, "/var/log/nginx/", f"{directory}/", count=2)
    text = _replace(text, "/etc/ssl/cashout-feed/", f"{directory}/", count=2)
    text = _replace(text, "listen 443 ssl http2;", f"listen 127.0.0.1:{port} ssl http2;")
    text = _replace(text, "listen [::]:443 ssl http2;\n", "")
    text = _replace(text, "listen 80;", f"listen 127.0.0.1:{http_port};")
    text = _replace(text, "listen [::]:80;\n", "")
    servers = _UPSTREAM_SERVER.findall(text)
    if not servers:
        raise NginxError("deploy/nginx.conf: no upstream server lines")
    indent, params = servers[0]
    lines = "".join(f"{indent}server 127.0.0.1:{p}{params};\n" for p in upstreams)
    text = _UPSTREAM_SERVER.sub("", text, count=len(servers) - 1)
    text = _UPSTREAM_SERVER.sub(lines, text, count=1)
    # Temporary files in the run's directory, not in /var/lib/nginx.
    temp = "".join(
        f"    {kind}_temp_path {directory}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return _replace(text, "http {\n", "http {\n" + temp)


@dataclass
class Nginx:
    """nginx in the foreground, with its config, logs and temporary files in ``directory``."""

    directory: Path
    upstreams: list[int]
    port: int = 0
    http_port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def certificate(self) -> Path:
        return self.directory / "fullchain.pem"

    @property
    def error_log(self) -> str:
        path = self.directory / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    @property
    def access_log(self) -> str:
        path = self.directory / "cashout-feed.access.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, timeout: float = 20) -> Nginx:
        # nginx reads relative paths from its prefix: every path it gets is absolute.
        self.directory = self.directory.resolve()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = self.port or _free_port()
        self.http_port = self.http_port or _free_port()
        self_signed_certificate(self.directory)
        conf = self.directory / "nginx.conf"
        conf.write_text(
            render(CONFIG.read_text(), self.directory, self.port, self.http_port, self.upstreams)
        )
        log = str(self.directory / "error.log")
        cmd = [NGINX, "-p", str(self.directory), "-c", str(conf), "-e", log]
        checked = subprocess.run([*cmd, "-t"], capture_output=True, text=True, timeout=30)  # noqa: S603
        if checked.returncode != 0:
            raise NginxError(f"nginx -t failed: {checked.stderr}")
        self.proc = subprocess.Popen([*cmd, "-g", "daemon off;"], stderr=subprocess.DEVNULL)  # noqa: S603
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise NginxError(f"nginx exited with {self.proc.returncode}: {self.error_log}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)  # polling start-up, bounded by the deadline
        self.stop()
        raise NginxError(f"nginx did not listen within {timeout:g} s: {self.error_log}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # fast shutdown: open streams are cut
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def __enter__(self) -> Nginx:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
