"""Fixtures of the apply drills: a Sandbox whose AWS calls pass through the fault proxy."""

import pytest

from environments.models import Environment
from tests.conftest import SUITE_RATE_LIMIT


@pytest.fixture
def sandbox(proxy, db):
    """Sandbox (no approvals) whose AWS calls go through the fault proxy."""
    return Environment.objects.create(name="Sandbox", region="us-east-1", endpoint_url=proxy.url,
                                      account_id="123456789012", approvals_required=0,
                                      api_rate_limit=SUITE_RATE_LIMIT)
