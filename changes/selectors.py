from django.db.models import Count, Q
from django.utils import timezone

from .choices import ChangeState, ReviewDecision
from .models import ChangeRequest


def change_request_list(*, user=None, waiting_for_me: bool = False, production_only: bool = False, states=None):
    qs = (ChangeRequest.objects.select_related("environment", "author")
          .annotate(approvals=Count("reviews", filter=Q(reviews__decision=ReviewDecision.APPROVE))))
    if states:
        qs = qs.filter(state__in=states)
    if production_only:
        qs = qs.filter(environment__is_production=True)
    if waiting_for_me and user is not None:
        qs = qs.filter(state=ChangeState.SUBMITTED).exclude(author=user).exclude(reviews__reviewer=user)
    return qs.order_by("-id")


def apply_in_progress(target) -> bool:
    """A worker is writing this rule or schedule right now (an Applying change with a live lease).

    Polling skips such objects; a change whose worker was lost no longer hides its object."""
    return target.changes.filter(state=ChangeState.APPLYING, lease_expires__gt=timezone.now()).exists()
