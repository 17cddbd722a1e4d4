from django.db.models import OuterRef, Subquery

from changes.choices import PENDING_STATES
from changes.models import ChangeRequest

from .models import Rule


def rule_list():
    """Rules with their environment and the state of their newest pending change (one query per page)."""
    pending = (ChangeRequest.objects.filter(rule=OuterRef("pk"), state__in=PENDING_STATES)
               .order_by("-id").values("state")[:1])
    return Rule.objects.select_related("environment").annotate(pending_state=Subquery(pending))
