"""`make run`: migrate, seed, and start everything EventConsole needs; Ctrl-C stops it all.

Started by the Makefile with the virtualenv's Python (the Makefile creates the virtualenv and
installs requirements.txt first). In local mode (the default) it also starts the local AWS
endpoint (a moto server on 127.0.0.1) and seeds demo users and demo AWS resources.

Processes: web (gunicorn), Celery worker, Celery beat, and in local mode the moto server.
Logs go to var/log/<process>.log.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _say(message: str = "") -> None:
    print(message, flush=True)


class Stack:
    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 (kept open for the child's lifetime)
        process = subprocess.Popen(command, cwd=BASE_DIR, stdout=log, stderr=subprocess.STDOUT,
                                   env={**os.environ, **(env or {})}, start_new_session=True)
        self.processes[name] = process
        return process

    def adopt(self, name: str, process: subprocess.Popen) -> None:
        self.processes[name] = process

    def dead(self) -> list[str]:
        return [name for name, p in self.processes.items() if p.poll() is not None]

    def stop(self) -> None:
        for name, process in reversed(list(self.processes.items())):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 15
        for name, process in self.processes.items():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, check=True)


def wait_http(url: str, timeout: float, stack: Stack, name: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.processes[name].poll() is not None:
            raise RuntimeError(f"{name} exited early; see var/log/{name}.log")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered (e.g. 503 from /healthz while the first heartbeat is on its way)
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{name} did not answer at {url} within {timeout:.0f}s; see var/log/{name}.log")


def main() -> int:
    started = time.monotonic()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eventconsole.settings")
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    from django.conf import settings

    from eventconsole import localaws

    log_dir = settings.VAR_DIR / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    host = os.environ.get("WEB_HOST", "127.0.0.1")
    port = int(os.environ.get("WEB_PORT", "8000"))
    if localaws.port_open(host, port):
        _say(f"Port {port} on {host} is already in use (is EventConsole already running?). "
             f"Stop it, or choose another port: WEB_PORT=8001 make run")
        return 1

    stack = Stack(log_dir)
    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if settings.LOCAL_MODE:
            url = settings.LOCAL_AWS_ENDPOINT_URL
            if localaws.is_moto(url):
                _say(f"• Local AWS endpoint: reusing the moto server already at {url}")
            else:
                _say(f"• Starting the local AWS endpoint (moto server) at {url}")
                with open(log_dir / "moto.log", "ab") as moto_log:
                    process, _ = localaws.start_moto(settings.LOCAL_AWS_HOST, settings.LOCAL_AWS_PORT, log=moto_log)
                stack.adopt("moto", process)
        _say("• Migrating the database")
        manage("migrate", "--noinput", "-v", "0")
        manage("collectstatic", "--noinput", "-v", "0")
        credentials = []
        if settings.LOCAL_MODE:
            _say("• Seeding demo users and demo AWS resources")
            from accounts.demo import demo_users_seed

            credentials = demo_users_seed()
            manage("seed_demo_aws")

        broker_is_fs = settings.CELERY_BROKER_URL.startswith("filesystem://")
        worker_flags = ["--without-mingle", "--without-gossip"] if broker_is_fs else []
        celery = [sys.executable, "-m", "celery", "-A", "eventconsole"]
        _say("• Starting web, Celery worker and Celery beat")
        stack.start("web", [sys.executable, "-m", "gunicorn", "eventconsole.wsgi:application", "--bind",
                            f"{host}:{port}", "--workers", os.environ.get("WEB_WORKERS", "2"), "--threads", "4",
                            "--access-logfile", "-", "--graceful-timeout", "5"])
        stack.start("worker", [*celery, "worker", "-l", "INFO", "--concurrency",
                               os.environ.get("WORKER_CONCURRENCY", "2"), *worker_flags])
        stack.start("beat", [*celery, "beat", "-l", "INFO", "-s", str(settings.VAR_DIR / "celerybeat-schedule")])
        from core.tasks import heartbeat

        heartbeat.delay()  # the first heartbeat now, rather than one beat interval from now
        base_url = f"http://{host}:{port}"
        wait_http(f"{base_url}/healthz", 60, stack, "web")
    except (subprocess.CalledProcessError, RuntimeError, TimeoutError) as exc:
        _say(f"\nEventConsole could not start: {exc}")
        stack.stop()
        return 1

    _say("")
    _say(f"EventConsole is running at {base_url}/   (ready in {time.monotonic() - started:.1f}s)")
    if settings.LOCAL_MODE:
        _say(f"Local AWS endpoint (moto server): {settings.LOCAL_AWS_ENDPOINT_URL}")
        _say("Demo sign-ins:")
        for row in credentials:
            _say(f"  {row['username']:<10} password {row['password']:<14} ({row['role']})")
    _say(f"Health: {base_url}/healthz    Logs: {log_dir}/*.log")
    _say("Press Ctrl-C to stop everything.")
    while not stopping:
        dead = stack.dead()
        if dead:
            _say(f"\n{', '.join(dead)} stopped unexpectedly; see {log_dir}/<name>.log. Stopping the rest.")
            break
        time.sleep(0.5)
    _say("Stopping…")
    stack.stop()
    _say("Stopped.")
    return 0 if stopping else 1


if __name__ == "__main__":
    sys.exit(main())
