"""Real processes the tests start: a moto server and a Celery worker."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

from eventconsole import localaws

BASE_DIR = Path(__file__).resolve().parents[2]


class MotoServer:
    """A moto server in its own process, over HTTP on loopback."""

    def __init__(self):
        self.log_path = settings.VAR_DIR / "log" / f"test-moto-{os.getpid()}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.process = None
        self.url = None

    # One cheap read per service the suite uses. moto builds a service's backend on its first request (EC2's
    # and CloudFormation's take a second or more), and a page allows its AWS calls 3 s in all: the first test of
    # a busy process to touch a service would otherwise spend its page's budget on the emulator's cold start,
    # which real AWS does not have.
    WARM_UP = {"events": "list_event_buses", "scheduler": "list_schedule_groups", "lambda": "list_functions",
               "sns": "list_topics", "sqs": "list_queues", "iam": "list_roles", "ec2": "describe_vpcs",
               "s3": "list_buckets", "ssm": "describe_parameters", "cloudformation": "list_stacks", "sts":
               "get_caller_identity", "logs": "describe_log_groups", "kms": "list_keys"}

    def start(self) -> "MotoServer":
        with open(self.log_path, "ab") as log:
            self.process, self.url = localaws.start_moto(log=log)
        self.warm_up()
        return self

    def warm_up(self) -> None:
        import boto3

        for service, operation in self.WARM_UP.items():
            client = boto3.client(service, endpoint_url=self.url, region_name="us-east-1",
                                  aws_access_key_id="testing", aws_secret_access_key="testing")
            getattr(client, operation)()
        self.reset()

    def stop(self) -> None:
        if self.process is not None:
            localaws.stop(self.process)

    def reset(self) -> None:
        localaws.reset(self.url)


def database_url() -> str:
    """The DATABASE_URL of the database the tests are using right now (the test database)."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    if connection.vendor == "postgresql":
        auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
        return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    raise RuntimeError(f"No DATABASE_URL mapping for {connection.vendor}")


class CeleryWorker:
    """A real `celery worker` process consuming a queue of its own, on the configured broker."""

    def __init__(self, app, *, env: dict[str, str] | None = None, beat: bool = False, queue: str | None = None):
        self.app = app
        self.extra_env = env or {}  # e.g. short APPLY_LEASE_SECONDS for crash drills
        self.beat = beat  # embed beat (-B): the worker also runs the beat schedule (recovery sweep, polls)
        self.queue = queue or f"test-{uuid.uuid4().hex[:10]}"
        self.log_path = settings.VAR_DIR / "log" / f"test-worker-{self.queue}.log"
        self.process = None
        self._previous_queue = None

    def start(self, timeout: float = 60.0) -> "CeleryWorker":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "DATABASE_URL": database_url(), "CELERY_QUEUE": self.queue,
               "CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "PYTHONUNBUFFERED": "1",
               "AWS_RATE_LIMIT_KEY_PREFIX": settings.AWS_RATE_LIMIT_KEY_PREFIX, **self.extra_env}
        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            env["CELERY_FILESYSTEM_BROKER_DIR"] = str(Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]).parent)
        command = [sys.executable, "-m", "celery", "-A", "eventconsole", "worker", "-l", "INFO", "-Q", self.queue,
                   "--concurrency", "2", "-n", f"{self.queue}@%h", "--without-mingle", "--without-gossip"]
        if self.beat:
            command += ["-B", "-s", str(self.log_path.with_suffix(".beat-schedule"))]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while b" ready." not in self.log_path.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"celery worker did not start:\n{self.log()}")
            time.sleep(0.2)
        self._previous_queue = self.app.conf.task_default_queue
        self.app.conf.task_default_queue = self.queue
        return self

    def signal(self, signum: int, *, group: bool = False) -> None:
        """Send a signal to the worker's main process, or (group) to it and its pool processes."""
        if group:
            os.killpg(self.process.pid, signum)
        else:
            self.process.send_signal(signum)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self._previous_queue is not None:
            self.app.conf.task_default_queue = self._previous_queue
        if self.process is not None and self.process.poll() is None:
            # The test is over and the worker read a queue of its own, so nothing it holds matters any more:
            # it and its pool processes are killed (as the crash drills do), not shut down warmly, which
            # waited for the broker's polling and the pool's join, about 6 s a test.
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(20)
