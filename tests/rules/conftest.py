"""Fixtures the rules tests share: an operator's client, and a draft standing at the Select target(s) step."""
import pytest

from tests.rules import flow


@pytest.fixture
def operator(client_for):
    return client_for("operator")


@pytest.fixture
def at_targets(operator, environment):
    """A create draft whose detail and pattern steps hold worked example 1's inputs."""
    draft = flow.start(operator, environment)
    flow.post(operator, draft, "detail", flow.detail(environment))
    flow.post(operator, draft, "pattern", flow.worked_example_pattern_form())
    return draft
