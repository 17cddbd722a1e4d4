"""`make run` supervises its processes: the real launcher, its real children, killed with SIGKILL.

The launcher runs as a subprocess in a scratch var/ folder on free ports. It uses this run's test
database (already migrated, so start-up is quick) and this run's broker, on a queue of its own.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import boto3
import pytest
from django.conf import settings

from eventconsole import localaws
from eventconsole.launcher import Backoff, Stack
from tests.support.services import BASE_DIR, database_url

DEADLINE = 120  # generous: the machine may be busy; nothing here measures speed


def wait_for(what: str, check, launcher: subprocess.Popen | None = None, timeout: float = DEADLINE):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if launcher is not None and launcher.poll() is not None:
            pytest.fail(f"the launcher exited ({launcher.returncode}) while waiting for {what}")
        value = check()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def group_alive(pgid: int) -> bool:
    """True while a live (not zombie) process is in process group `pgid` (read from /proc)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":  # fields after "(comm)": state, ppid, pgrp, …
            return True
    return False


class Launcher:
    def __init__(self, var_dir: Path):
        self.var_dir = var_dir
        self.web_port, self.aws_port = localaws.free_port(), localaws.free_port()
        self.output = var_dir / "launcher-output.txt"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Launcher":
        env = {key: value for key, value in os.environ.items() if key not in ("CELERY_FILESYSTEM_BROKER_DIR",)}
        env.update({"EVENTCONSOLE_VAR_DIR": str(self.var_dir), "WEB_PORT": str(self.web_port),
                    "LOCAL_AWS_PORT": str(self.aws_port), "EVENTCONSOLE_LOCAL_MODE": "true",
                    "DATABASE_URL": database_url(), "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
                    "CELERY_QUEUE": f"test-launcher-{uuid.uuid4().hex[:8]}", "WEB_WORKERS": "1",
                    "WORKER_CONCURRENCY": "1", "PYTHONUNBUFFERED": "1"})
        with open(self.output, "wb") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "eventconsole.launcher"], cwd=BASE_DIR, env=env,
                                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for("the launcher to say it is running", lambda: "EventConsole is running at" in self.text(), self.process)
        return self

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def status(self) -> dict:
        try:
            return json.loads((self.var_dir / "run" / "launcher.json").read_text())["children"]
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def pids(self) -> dict[str, int]:
        return {name: child["pid"] for name, child in self.status().items()}

    def restarted(self, name: str, old_pid: int) -> int:
        """Wait until the launcher reports `name` running again under a new pid; return it."""
        def check():
            child = self.status().get(name) or {}
            return child.get("running") and child["pid"] != old_pid and alive(child["pid"]) and child["pid"]
        return wait_for(f"{name} to be restarted", check, self.process)

    def web_answers(self) -> int:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/accounts/login/", timeout=10) as response:
            return response.status

    def emulator_has_demo_lambda(self) -> bool:
        client = boto3.client("lambda", endpoint_url=f"http://127.0.0.1:{self.aws_port}", region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        try:
            return client.get_function(FunctionName="Do_nothing")["Configuration"]["FunctionName"] == "Do_nothing"
        except client.exceptions.ResourceNotFoundException:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        for pid in self.pids().values():
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, TypeError):
                pass


@pytest.fixture
def launcher(transactional_db, tmp_path):
    running = Launcher(tmp_path)
    try:
        yield running.start()
    finally:
        running.kill()


@pytest.mark.worker
@pytest.mark.aws
def test_a_killed_child_is_restarted_and_the_others_keep_running(launcher):
    first = launcher.pids()
    assert set(first) == {"moto", "web", "worker", "beat"}
    assert launcher.emulator_has_demo_lambda()

    # kill -9 the worker: a new worker appears; web and the emulator (with its state) are untouched.
    os.kill(first["worker"], signal.SIGKILL)
    worker = launcher.restarted("worker", first["worker"])
    assert f"worker (pid {first['worker']}) exited with status -9" in launcher.text()
    assert launcher.status()["worker"]["restarts"] == 1
    wait_for("the old worker's pool processes to go", lambda: not group_alive(first["worker"]), launcher.process)
    assert launcher.pids()["web"] == first["web"] and alive(first["web"])
    assert launcher.pids()["moto"] == first["moto"] and alive(first["moto"])
    assert launcher.web_answers() == 200
    assert launcher.emulator_has_demo_lambda()

    # kill -9 beat: same.
    os.kill(first["beat"], signal.SIGKILL)
    beat = launcher.restarted("beat", first["beat"])
    assert f"beat (pid {first['beat']}) exited with status -9" in launcher.text()
    assert launcher.pids() == {"moto": first["moto"], "web": first["web"], "worker": worker, "beat": beat}
    assert launcher.web_answers() == 200
    assert launcher.emulator_has_demo_lambda()

    # kill -9 the emulator: it comes back on the same port and the demo resources are seeded again.
    os.kill(first["moto"], signal.SIGKILL)
    moto = launcher.restarted("moto", first["moto"])
    assert "state was lost" in launcher.text()
    wait_for("the demo resources to be seeded again", launcher.emulator_has_demo_lambda, launcher.process)
    assert launcher.pids() == {"moto": moto, "web": first["web"], "worker": worker, "beat": beat}
    assert launcher.web_answers() == 200

    # SIGTERM the launcher: every child (and its children) is gone, and the launcher exits cleanly.
    children = launcher.pids()
    launcher.process.send_signal(signal.SIGTERM)
    assert launcher.process.wait(DEADLINE) == 0
    wait_for("every child to be gone", lambda: not [name for name, pid in children.items() if group_alive(pid)])
    assert not (launcher.var_dir / "run" / "launcher.json").exists()
    with pytest.raises(urllib.error.URLError):
        launcher.web_answers()


def test_backoff_doubles_to_a_cap_and_resets_after_a_stable_run():
    backoff = Backoff(first=1, cap=30, stable_after=60)
    assert [backoff.delay(ran_for=0.5) for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    assert backoff.delay(ran_for=61) == 1  # it had run fine for a minute: start over
    assert backoff.delay(ran_for=2) == 2


def test_a_crash_looping_child_is_restarted_with_growing_delays(tmp_path, capsys):
    stack = Stack(tmp_path, status_path=tmp_path / "status.json")
    stack.start("crasher", [sys.executable, "-c", "import sys; sys.exit(3)"])
    child = stack.children["crasher"]
    child.backoff = Backoff(first=0.05, cap=0.2)
    try:
        wait_for("three restarts", lambda: stack.supervise() or child.restarts >= 3, timeout=30)
    finally:
        stack.stop()
    out = capsys.readouterr().out
    announced = [line.split("restarting it in ")[1].split("s ")[0] for line in out.splitlines()
                 if "restarting it in" in line]
    assert announced[:3] == ["0.05", "0.1", "0.2"]
    assert "crasher (pid " in out and "exited with status 3" in out
    assert not (tmp_path / "status.json").exists()  # stop() removes the status file
