"""An AWS API call as data: what a plan lists, what apply executes, what the audit records."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from botocore import xform_name

from environments import aws

# Error codes worth retrying after botocore's own retries gave up: the call may succeed later.
RETRYABLE_CODES = aws.THROTTLE_CODES | {"ConcurrentModificationException", "InternalException", "ServiceUnavailable",
                                        "InternalServerException"}


@dataclass(frozen=True)
class ApiCall:
    service: str  # boto3 service name: "events", "scheduler"
    operation: str  # the API's own name: "PutRule"
    params: dict[str, Any] = field(default_factory=dict)
    summary: str = ""  # for people: "Create rule process-s3-objects-with-lambda on bus default"

    @property
    def method(self) -> str:
        return xform_name(self.operation)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def execute(self, client) -> dict[str, Any]:
        response = getattr(client, self.method)(**self.params)
        response.pop("ResponseMetadata", None)
        return response


class PartialFailure(Exception):
    """An API call answered 200 but refused some entries (PutTargets / RemoveTargets FailedEntries)."""

    def __init__(self, call: ApiCall, entries: list[dict[str, Any]]):
        self.call, self.entries = call, entries
        detail = "; ".join(f"{e.get('TargetId', '?')}: {e.get('ErrorCode', '')} {e.get('ErrorMessage', '')}".strip()
                           for e in entries)
        super().__init__(f"{call.operation} refused {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}: {detail}")
