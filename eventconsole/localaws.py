"""The local AWS endpoint: a moto server on loopback, started as a child process.

Used by the launcher (`make run`) and by the test suite, so both start it the same way.
moto stores state faithfully but validates almost nothing and runs no schedules: every AWS
rule is enforced by EventConsole itself (the tests that rely on a gap of moto's name it).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def is_moto(url: str) -> bool:
    """True when a moto server answers at `url` (its /moto-api/data.json is there)."""
    try:
        with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_ready(url: str, *, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"moto server exited with status {process.returncode} before it was ready")
        if is_moto(url):
            return
        time.sleep(0.1)
    raise TimeoutError(f"moto server at {url} was not ready after {timeout:.0f}s")


def moto_command(host: str, port: int) -> list[str]:
    executable = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which("moto_server")
    if executable:
        return [executable, "-H", host, "-p", str(port)]
    return [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)]


def start_moto(host: str = "127.0.0.1", port: int | None = None, *, log=None, timeout: float = 30.0
               ) -> tuple[subprocess.Popen, str]:
    """Start a moto server; return (process, url) once it answers."""
    port = port or free_port(host)
    if port_open(host, port):
        raise RuntimeError(f"Port {port} on {host} is already in use; set LOCAL_AWS_PORT to a free port.")
    env = {**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "false"}
    process = subprocess.Popen(moto_command(host, port), stdout=log or subprocess.DEVNULL,
                               stderr=subprocess.STDOUT if log else subprocess.DEVNULL, env=env,
                               start_new_session=True)
    url = f"http://{host}:{port}"
    try:
        wait_ready(url, timeout=timeout, process=process)
    except Exception:
        stop(process)
        raise
    return process, url


def stop(process: subprocess.Popen, *, timeout: float = 10.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def reset(url: str) -> None:
    """Wipe every resource in the moto server (POST /moto-api/reset)."""
    request = urllib.request.Request(f"{url}/moto-api/reset", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.loads(response.read() or b"{}")
    if body.get("status") != "ok":
        raise RuntimeError(f"moto reset failed: {body}")
