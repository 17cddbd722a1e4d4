"""`make run`: migrate, seed, and start everything EventConsole needs; Ctrl-C stops it all.

Started by the Makefile with the virtualenv's Python (the Makefile creates the virtualenv and
installs requirements.txt first). In local mode (the default) it also starts the local AWS
endpoint (a moto server on 127.0.0.1) and seeds demo users and demo AWS resources.

Processes: web (gunicorn), Celery worker, Celery beat, and in local mode the moto server.
Logs go to var/log/<process>.log. The launcher supervises them: a process that dies is restarted
after a back-off (1 s, doubling to 30 s while it keeps dying), and the others keep running; a
restarted emulator is empty, so the demo AWS resources are seeded again. Each child's pid and
restart count are in var/run/launcher.json. Only Ctrl-C or SIGTERM stops everything, in order:
web, beat, worker, emulator.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _say(message: str = "") -> None:
    print(message, flush=True)


class Backoff:
    """Delay before restarting a child that died: 1 s, doubling up to a cap, back to 1 s after a stable run.

    A child that crash-loops is restarted at most once per `cap` seconds, so it never spins the CPU.
    """

    def __init__(self, first: float = 1.0, cap: float = 30.0, stable_after: float = 60.0):
        self.first, self.cap, self.stable_after = first, cap, stable_after
        self.next = first

    def delay(self, ran_for: float) -> float:
        """The delay before the next start of a child that ran `ran_for` seconds before it died."""
        if ran_for >= self.stable_after:
            self.next = self.first
        delay, self.next = self.next, min(self.cap, self.next * 2)
        return delay


class Child:
    """One supervised process: how to start it, its current process, and its restart bookkeeping."""

    def __init__(self, name: str, start: Callable[[], subprocess.Popen], after_restart: Callable[[], None] | None = None):
        self.name, self._start, self.after_restart = name, start, after_restart
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.restarts = 0
        self.restart_at: float | None = None  # set while waiting out the back-off
        self.backoff = Backoff()

    def start(self) -> None:
        self.process = self._start()
        self.started_at = time.monotonic()
        self.restart_at = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Stack:
    """The children of `make run`, supervised: a child that dies is restarted (with back-off); the
    others keep running. Only stop() (Ctrl-C or SIGTERM of the launcher) stops them, in order."""

    STOP_ORDER = ("web", "beat", "worker", "moto")  # stop taking requests first, the emulator last

    def __init__(self, log_dir: Path, status_path: Path | None = None):
        self.log_dir = log_dir
        self.status_path = status_path
        self.children: dict[str, Child] = {}

    @property
    def processes(self) -> dict[str, subprocess.Popen]:
        return {name: child.process for name, child in self.children.items() if child.process is not None}

    def popen(self, name: str, command: list[str], env: dict | None = None) -> subprocess.Popen:
        with open(self.log_dir / f"{name}.log", "ab") as log:  # the child keeps its own copy of the descriptor
            return subprocess.Popen(command, cwd=BASE_DIR, stdout=log, stderr=subprocess.STDOUT,
                                    env={**os.environ, **(env or {})}, start_new_session=True)

    def start(self, name: str, command: list[str], env: dict | None = None) -> subprocess.Popen:
        child = Child(name, lambda: self.popen(name, command, env))
        self.children[name] = child
        child.start()
        self.write_status()
        return child.process

    def adopt(self, name: str, process: subprocess.Popen, restart: Callable[[], subprocess.Popen],
              after_restart: Callable[[], None] | None = None) -> None:
        child = Child(name, restart, after_restart)
        child.process, child.started_at = process, time.monotonic()
        self.children[name] = child
        self.write_status()

    def supervise(self) -> None:
        """One round: notice children that died, restart those whose back-off is over."""
        now = time.monotonic()
        for name, child in self.children.items():
            if child.restart_at is None and not child.alive():
                code = child.process.returncode if child.process else None
                _reap_group(child.process)
                delay = child.backoff.delay(now - child.started_at)
                child.restart_at = now + delay
                _say(f"! {name} (pid {child.pid}) exited with status {code}; restarting it in {delay:g}s "
                     f"(restart {child.restarts + 1}; see {self.log_dir / name}.log)")
                self.write_status()
            elif child.restart_at is not None and now >= child.restart_at:
                try:
                    child.start()
                except (OSError, RuntimeError, TimeoutError, subprocess.CalledProcessError) as exc:
                    delay = child.backoff.delay(0)
                    child.restart_at = now + delay
                    _say(f"! {name} could not be restarted ({exc}); trying again in {delay:g}s")
                    continue
                child.restarts += 1
                _say(f"• {name} restarted (pid {child.pid}, restart {child.restarts})")
                if child.after_restart:
                    try:
                        child.after_restart()
                    except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
                        _say(f"! after restarting {name}: {exc}")
                self.write_status()

    def write_status(self) -> None:
        """var/run/launcher.json: each child's pid and restart count (for people and for the tests)."""
        if self.status_path is None:
            return
        status = {"launcher": os.getpid(), "children": {
            name: {"pid": child.pid, "running": child.alive(), "restarts": child.restarts,
                   "restarting_in": round(max(0.0, child.restart_at - time.monotonic()), 1)
                   if child.restart_at is not None else None}
            for name, child in self.children.items()}}
        self.status_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.status_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(status, indent=1))
        temporary.replace(self.status_path)

    def stop(self) -> None:
        order = [n for n in self.STOP_ORDER if n in self.children] + \
                [n for n in self.children if n not in self.STOP_ORDER]
        for name in order:
            child = self.children[name]
            child.restart_at = None
            process = child.process
            if process is None:
                continue
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    _say(f"! {name} did not stop within 15s: killing it")
            _reap_group(process)
        if self.status_path is not None:
            self.status_path.unlink(missing_ok=True)


def _reap_group(process: subprocess.Popen | None) -> None:
    """Kill whatever is left of a child's process group (e.g. pool processes of a worker killed with -9)."""
    if process is None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
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

    stack = Stack(log_dir, status_path=settings.VAR_DIR / "run" / "launcher.json")
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

                def start_moto() -> subprocess.Popen:
                    with open(log_dir / "moto.log", "ab") as moto_log:
                        return localaws.start_moto(settings.LOCAL_AWS_HOST, settings.LOCAL_AWS_PORT, log=moto_log)[0]

                def reseed() -> None:
                    _say("! The emulator restarted empty: its state was lost. Re-seeding the demo AWS resources; "
                         "rules and schedules created earlier show as missing in AWS until re-applied.")
                    manage("seed_demo_aws")

                stack.adopt("moto", start_moto(), restart=start_moto, after_restart=reseed)
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
    _say(f"Press Ctrl-C to stop everything. A process that dies is restarted; status: {stack.status_path}")
    while not stopping:
        stack.supervise()
        time.sleep(0.5)
    _say("Stopping…")
    stack.stop()
    _say("Stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
