"""NUL characters never reach a form or the database (PostgreSQL refuses them in text and JSON)."""
import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_nul_characters_are_removed_from_queries_and_forms(client_for, users):
    client = client_for("viewer")
    response = client.get(reverse("rules:rule_list"), {"q": "rule\x00%'"})
    assert response.status_code == 200 and response.context["filter"].form.data["q"] == "rule%'"
    response = client.post(reverse("rules:sandbox"), {"sample_key": "s3-object-created",
                                                      "pattern": '{"source": ["aws.s3\x00"]}'})
    assert response.status_code == 200 and response.context["form"].data["pattern"] == '{"source": ["aws.s3"]}'
