from django.db.models import OuterRef, Subquery

from changes.choices import PENDING_STATES, SyncStatus
from changes.models import ChangeRequest

from .models import Schedule


def schedule_list():
    """Schedules with their environment and the state of their newest pending change.

    One query per page whatever the page size: everything the list shows is a column
    (denormalised on apply and poll); the JSON specs are not read.
    """
    pending = (ChangeRequest.objects.filter(schedule=OuterRef("pk"), state__in=PENDING_STATES)
               .order_by("-id").values("state")[:1])
    return (Schedule.objects.select_related("environment").annotate(pending_state=Subquery(pending))
            .defer("desired_spec", "live_spec", "drift"))


def schedule_groups() -> list[str]:
    """The schedule groups of managed schedules, for the filters."""
    return list(Schedule.objects.order_by("group_name").values_list("group_name", flat=True).distinct())


def schedules_upcoming(*, until, environment=None, group: str = "", limit: int = 2000, environment_ids=None):
    """Enabled schedules that may run before `until`, soonest first (the next_run column is
    denormalised, so this is one indexed query; a stale next_run is still included). `environment_ids`
    (a collection of ids) keeps only those environments' schedules."""
    schedules = (Schedule.objects.select_related("environment").filter(state="ENABLED", next_run__isnull=False,
                                                                       next_run__lte=until)
                 .exclude(sync_status=SyncStatus.COMPLETED)
                 .only("id", "name", "group_name", "environment__name", "expression", "timezone", "state",
                       "start_date", "end_date", "last_applied", "next_run", "target_arn"))
    if environment is not None:
        schedules = schedules.filter(environment=environment)
    if environment_ids is not None:
        schedules = schedules.filter(environment_id__in=sorted(environment_ids))
    if group:
        schedules = schedules.filter(group_name=group)
    return schedules.order_by("next_run", "id")[:limit]


def schedules_upcoming_count(*, after, until, environment_ids=None) -> int:
    """How many enabled schedules have their stored next run in (after, until]: one indexed count (a stale
    next run, before `after`, is not counted; schedules_upcoming lists those for recomputing)."""
    schedules = (Schedule.objects.filter(state="ENABLED", next_run__gt=after, next_run__lte=until)
                 .exclude(sync_status=SyncStatus.COMPLETED))
    if environment_ids is not None:
        schedules = schedules.filter(environment_id__in=sorted(environment_ids))
    return schedules.count()
