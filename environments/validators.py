"""Field validators for environments, using botocore's own data where it has it."""
import re
from functools import cache

from botocore.session import get_session
from django.core.exceptions import ValidationError

_REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
_ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")


@cache
def known_regions() -> frozenset[str]:
    """Every Region botocore knows for EventBridge, in any partition."""
    session = get_session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("events", partition_name=partition))
    return frozenset(regions)


def validate_region(value: str) -> None:
    if value in known_regions() or _REGION_RE.match(value):
        return
    raise ValidationError("%(value)s is not an AWS Region code (for example us-east-1).", params={"value": value})


def validate_role_arn(value: str) -> None:
    if value and not _ROLE_ARN_RE.match(value):
        raise ValidationError(
            "Enter an IAM role ARN such as arn:aws:iam::123456789012:role/EventConsole.", code="invalid")
