"""Crash recovery: from the SIGKILL of a worker mid-apply to the change being Applying again under a
new lease (resumed), and to Applied. Real processes: a moto server behind a delaying proxy (so the
kill lands between PutRule and PutTargets), the victim worker, and a recovery worker with embedded
beat running the recovery sweep. Filesystem broker and SQLite in a scratch folder.

The lease and sweep interval are shortened (BENCH_LEASE_SECONDS, default 5; BENCH_SWEEP_SECONDS,
default 2): recovery takes at most about lease + sweep + one apply, so with the production defaults
(60 s, 20 s) expect the printed figures plus about 73 s.

Run: python -m bench recovery
"""
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

LEASE = os.environ.get("BENCH_LEASE_SECONDS", "5")
SWEEP = os.environ.get("BENCH_SWEEP_SECONDS", "2")
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
os.environ.update({"CELERY_QUEUE": "bench-victim", "APPLY_LEASE_SECONDS": LEASE, "APPLY_SWEEP_SECONDS": SWEEP})

from setup import django_with_scratch_db  # noqa: E402

scratch = django_with_scratch_db()

from django.conf import settings  # noqa: E402

from accounts.services import user_create  # noqa: E402
from audit.models import AuditEvent  # noqa: E402
from changes import services  # noqa: E402
from changes.choices import ChangeState as S  # noqa: E402
from changes.models import ChangeRequest  # noqa: E402
from environments.models import Environment  # noqa: E402
from eventconsole import localaws  # noqa: E402
from tests.support.faultproxy import FaultProxy  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BASE_ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "POLL_INTERVAL_SECONDS": "3600",
            "HEARTBEAT_INTERVAL_SECONDS": "3600", "APPLY_REDISPATCH_SECONDS": "3600",
            "CELERY_FILESYSTEM_BROKER_DIR": str(Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]).parent)}


def start_worker(queue: str, *, beat: bool = False) -> subprocess.Popen:
    log_path = scratch / f"{queue}-{time.monotonic_ns()}.log"
    command = [sys.executable, "-m", "celery", "-A", "eventconsole", "worker", "-l", "INFO", "-Q", queue,
               "--concurrency", "2", "-n", f"{queue}-{time.monotonic_ns()}@%h", "--without-mingle", "--without-gossip"]
    if beat:
        command += ["-B", "-s", str(scratch / "beat-schedule")]
    process = subprocess.Popen(command, cwd=ROOT, env={**BASE_ENV, "CELERY_QUEUE": queue},
                               stdout=open(log_path, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while b" ready." not in log_path.read_bytes():
        assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
        time.sleep(0.1)
    return process


def wait(condition, timeout=120.0, step=0.02):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(step)
    return time.perf_counter()


moto, url = localaws.start_moto()
proxy = FaultProxy(url).start()
recovery = start_worker("bench-recover", beat=True)
try:
    sandbox = Environment.objects.create(name="Sandbox", region="us-east-1", endpoint_url=proxy.url,
                                         account_id="123456789012", approvals_required=0)
    operator = user_create(username="operator", password="bench-password-1", roles=["Operators"])
    resumed, finished = [], []
    for run in range(RUNS):
        proxy.delay = 0.5
        victim = start_worker("bench-victim")
        spec = {"Rule": {"Name": f"recover-{run}", "EventBusName": "default", "State": "ENABLED",
                         "EventPattern": '{"source":["aws.s3"]}'},
                "Targets": [{"Id": "T1", "Arn": "arn:aws:sqs:us-east-1:123456789012:q"}], "Tags": []}
        change = services.change_request_draft_create(kind="rule", action="create", environment=sandbox,
                                                      author=operator, spec=spec)
        services.change_request_submit(change, actor=operator)
        wait(lambda: AuditEvent.objects.filter(related_id=str(change.pk), data__operation="PutRule").exists())
        owner = ChangeRequest.objects.get(pk=change.pk).lease_owner
        os.killpg(victim.pid, signal.SIGKILL)
        killed = time.perf_counter()
        victim.wait(10)
        proxy.delay = 0.0

        def taken_again():
            c = ChangeRequest.objects.get(pk=change.pk)
            return (c.state == S.APPLYING and c.lease_owner != owner) or c.state == S.APPLIED

        resumed.append(wait(taken_again) - killed)
        finished.append(wait(lambda: ChangeRequest.objects.get(pk=change.pk).state == S.APPLIED) - killed)
        assert ChangeRequest.objects.get(pk=change.pk).attempts == 2
    print(f"{RUNS} runs; lease {LEASE} s, sweep every {SWEEP} s; each timed from the SIGKILL of the worker "
          "(between PutRule and PutTargets)")
    for label, times in (("kill → applying again under a new lease", resumed), ("kill → applied", finished)):
        print(f"{label}: median {statistics.median(times):.2f} s, min {min(times):.2f} s, max {max(times):.2f} s")
finally:
    os.killpg(recovery.pid, signal.SIGTERM)
    recovery.wait(30)
    proxy.stop()
    localaws.stop(moto)
