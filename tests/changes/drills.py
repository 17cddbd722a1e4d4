"""What the crash and broker drills share: a redis-server of their own, pointing the Celery app at
another broker for a while, and waiting with a generous deadline."""
from __future__ import annotations

import shutil
import subprocess
import time
from contextlib import contextmanager

import redis

from eventconsole.localaws import free_port


def wait_for(condition, *, timeout: float = 60, why=lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting; {why()}"
        time.sleep(0.2)


class RedisServer:
    """A redis-server of our own on a free port, without persistence: killed and restarted, it is empty."""

    def __init__(self):
        self.binary = shutil.which("redis-server")
        assert self.binary, "redis-server is not installed (apt-get install redis-server)"
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> "RedisServer":
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.answers, timeout=20, why=lambda: f"redis-server on port {self.port} did not start")
        return self

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)

    def answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.exceptions.ConnectionError:
            return False

    def kill(self) -> None:
        """SIGKILL: whatever it held is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@contextmanager
def celery_broker(app, url: str, queue: str):
    """Point this process's Celery app (what the web and the services send with) at `url`, queue `queue`."""
    names = ("broker_url", "broker_write_url", "broker_read_url", "broker_transport_options", "task_default_queue")
    saved = [app.conf[name] for name in names]

    def use(*values):
        for name, value in zip(names, values):
            app.conf[name] = value
        app._pool = None  # the connection and producer pools were made for the old broker
        app.amqp._producer_pool = None

    use(url, url, url, {}, queue)
    try:
        yield
    finally:
        use(*saved)
