"""A worker killed in the middle of an apply, for the crash and recovery tests."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from environments import aws


class WorkerDied(BaseException):
    """Stands for the process being killed: not an Exception, so nothing on the way catches it."""


@contextmanager
def worker_dies_after(operation: str) -> Iterator[None]:
    """While active, an AWS client raises WorkerDied as soon as `operation` (e.g. "PutRule") has
    returned: the call took effect in AWS, and nothing after it ran."""
    def die_after(client, environment, service):
        def after(model, **kwargs):
            if model.name == operation:
                raise WorkerDied()
        client.meta.events.register("after-call", after)

    aws.add_client_hook(die_after)
    try:
        yield
    finally:
        aws.remove_client_hook(die_after)
