from django.db.models import Count, Q
from django.utils import timezone

from audit.choices import ObjectType
from audit.selectors import audit_object_history, audit_related_ids

from . import kinds
from .choices import ChangeState, ReviewDecision
from .models import ChangeRequest

DRAFTS_SHOWN = 20  # the newest drafts a list page offers to continue


def environments_for_new_changes(user):
    """The environments where `user` may start a change, in the order every picker lists them: those that are
    not production first (a mistake there costs least), then by name."""
    from accounts.permissions import SUBMIT, restrict
    from environments.models import Environment

    return restrict(Environment.objects.order_by("is_production", "name"), user, SUBMIT, field="pk")


def environment_default(user):
    """The environment every "Create rule" / "Create schedule" picker starts at: the first of
    `environments_for_new_changes` (a non-production one when the user may use one); None when there is none."""
    return environments_for_new_changes(user).first()


def change_request_list():
    """Every change request with its environment, author and approvals counted (one query per page); the
    Reviews list filters it (changes.filtersets.ChangeRequestFilterSet: "waiting for me" is
    changes.approvals.waiting_for_review)."""
    return (ChangeRequest.objects.select_related("environment", "author")
            .annotate(approvals=Count("reviews", filter=Q(reviews__decision=ReviewDecision.APPROVE)))
            .order_by("-id"))


def drafts_of(user, kind_name: str):
    """`user`'s drafts of one kind, most recently edited first (the newest DRAFTS_SHOWN)."""
    return (ChangeRequest.objects.filter(kind=kind_name, state=ChangeState.DRAFT, author=user)
            .select_related("environment").order_by("-last_updated")[:DRAFTS_SHOWN])


def change_ids_of(kind_name: str, object_id: int) -> list[str]:
    """The object's change requests: those that point at it, and those its own events name.

    The second half finds the changes of an object that has since been deleted (a change's link to
    its object is cleared then), so their drafts stay in the object's history.
    """
    field = kinds.get(kind_name).change_field
    linked = {str(pk) for pk in ChangeRequest.objects.filter(**{f"{field}_id": object_id}).values_list("pk", flat=True)}
    named = audit_related_ids(object_type=kind_name, object_id=object_id, related_type=ObjectType.CHANGE)
    return sorted(linked | named, key=lambda v: (len(v), v))


def object_history(kind_name: str, object_id: int):
    """Events about one managed object and about its change requests (drafts recorded before it existed
    included), as an AuditEvent queryset."""
    return audit_object_history(object_type=kind_name, object_id=object_id,
                                change_ids=change_ids_of(kind_name, object_id))


def apply_in_progress(target) -> bool:
    """A worker is writing this managed object right now (an Applying change with a live lease).

    Polling skips such objects; a change whose worker was lost no longer hides its object."""
    return target.changes.filter(state=ChangeState.APPLYING, lease_expires__gt=timezone.now()).exists()
