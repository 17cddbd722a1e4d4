"""What the pages read from the stored figures (never AWS): one object's charts and totals, the rules
list's sparklines (one query for a page's rows) and the "failing" filter's condition."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case, CharField, F, Q, Value, When
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from . import catalog
from .models import Datapoint, Fetch, FetchState, Watched


def age_words(fetched_at: datetime | None, now: datetime | None = None) -> str:
    """"figures from 4 minutes ago", or "never fetched"."""
    if fetched_at is None:
        return "never fetched"
    now = now or timezone.now()
    if now - fetched_at < timedelta(minutes=1):
        return "figures from less than a minute ago"
    return f"figures from {timesince(fetched_at, now, depth=1)} ago".replace("\xa0", " ")


@dataclass
class Freshness:
    fetched_at: datetime | None
    last: Fetch | None  # the environment's newest fetch (running, failed or succeeded)
    words: str

    @property
    def running(self) -> bool:
        return self.last is not None and self.last.state == FetchState.RUNNING

    @property
    def failed(self) -> bool:
        return self.last is not None and self.last.state == FetchState.FAILED


def freshness(environment, namespace: str, key: str, now: datetime | None = None) -> Freshness:
    fetched_at = (Watched.objects.filter(environment=environment, namespace=namespace, dimensions=key)
                  .values_list("fetched_at", flat=True).first())
    last = Fetch.objects.filter(environment=environment).order_by("-id").first()
    return Freshness(fetched_at, last, age_words(fetched_at, now))


def figures(environment, namespace: str, dimensions: list[dict[str, str]], now: datetime | None = None) -> dict:
    """Everything a Monitoring tab shows for one set of dimensions: freshness, per range the chart data
    (a point per period; None where nothing is known) and per metric its totals ("no data" is None)."""
    now = now or timezone.now()
    key = catalog.dimensions_key(dimensions)
    fresh = freshness(environment, namespace, key, now)
    metrics = catalog.METRICS[namespace]
    stored: dict[tuple[str, int], dict[int, float]] = {}
    oldest = now - catalog.ONE_HOUR.span - timedelta(hours=1)
    for metric, period, moment, value in (
            Datapoint.objects.filter(environment=environment, namespace=namespace, dimensions=key,
                                     timestamp__gte=oldest)
            .values_list("metric", "period", "timestamp", "value")):
        stored.setdefault((metric, period), {})[int(moment.timestamp())] = value
    known_until = int(fresh.fetched_at.timestamp()) if fresh.fetched_at else None
    ranges, totals = {}, {m.name: {} for m in metrics}
    for chart_range in catalog.RANGES:
        period = chart_range.window.period
        first = int(catalog.floor(now - chart_range.span, period).timestamp()) + period
        xs = list(range(first, int(now.timestamp()) + 1, period))
        series = []
        for metric in metrics:
            points = stored.get((metric.name, period), {})
            values = []
            for x in xs:
                if x in points:
                    values.append(points[x])
                elif known_until is not None and x <= known_until and metric.zero_when_missing:
                    values.append(0.0)
                else:
                    values.append(None)
            present = [v for v in values if v is not None]
            totals[metric.name][chart_range.key] = _number(sum(present)) if present else None
            series.append({"label": metric.label, "values": values})
        ranges[chart_range.key] = {"label": chart_range.label, "x": xs, "series": series}
    rows = [{"name": m.name, "label": m.label, "zero_when_missing": m.zero_when_missing,
             "totals": [totals[m.name][r.key] for r in catalog.RANGES]} for m in metrics]
    return {"freshness": fresh, "key": key, "namespace": namespace, "dimensions": dimensions,
            "chart": {"ranges": ranges, "order": [r.key for r in catalog.RANGES]},
            "ranges": catalog.RANGES, "rows": rows, "fetched": fresh.fetched_at is not None}


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 2)


# ---------------------------------------------------------------------------------------------
# The rules list
# ---------------------------------------------------------------------------------------------
def failing_keys(now: datetime | None = None) -> dict[int, set[str]]:
    """{environment id: the AWS/Events dimensions (stored form) with FailedInvocations, DeadLetterInvocations or
    InvocationsSentToDlq above zero in the last 24 hours}: one query on the (metric, timestamp) index."""
    since = (now or timezone.now()) - timedelta(hours=24)
    found: dict[int, set[str]] = {}
    for environment_id, key in (Datapoint.objects.filter(metric__in=catalog.FAILING, timestamp__gte=since,
                                                          namespace=catalog.EVENTS, period=catalog.FIVE_MINUTES.period,
                                                          value__gt=0)
                                .values_list("environment_id", "dimensions").distinct()):
        found.setdefault(environment_id, set()).add(key)
    return found


def rule_key_expression(bus_field: str = "event_bus_name", name_field: str = "name"):
    """A rule's stored dimensions as a database expression over its bus and name fields (see catalog.rule_key)."""
    return Case(When(Q(**{f"{bus_field}__in": ["default", ""]}), then=Concat(Value("RuleName="), F(name_field))),
                default=Concat(Value("EventBusName="), F(bus_field), Value(",RuleName="), F(name_field)),
                output_field=CharField())


def failing(queryset, *, bus_field: str = "event_bus_name", name_field: str = "name", now: datetime | None = None):
    """The rules of `queryset` with failed invocations or messages sent to a dead-letter queue in the last 24 hours
    (the rules list's "failing" filter): the failing dimensions first, then the rules whose dimensions they are."""
    keys = failing_keys(now)
    if not keys:
        return queryset.none()
    wanted = Q()
    for environment_id, found in keys.items():
        # the names narrow the rows through the name index; the whole dimensions decide
        names = sorted({key.rsplit("RuleName=", 1)[-1] for key in found})
        wanted |= Q(environment_id=environment_id, **{f"{name_field}__in": names}, metrics_key__in=sorted(found))
    return queryset.annotate(metrics_key=rule_key_expression(bus_field, name_field)).filter(wanted)


SPARK_W, SPARK_H = 96, 20


@dataclass
class Sparklines:
    """A list page's sparklines: {(environment_id, key): inline SVG}, and the age of the oldest figures among them."""

    lines: dict[tuple[int, str], str]
    oldest: datetime | None

    def words(self, now: datetime | None = None) -> str:
        return age_words(self.oldest, now)


def sparklines(rows) -> Sparklines:
    """For (environment_id, bus, name) rows: the inline SVG of the Invocations of each of the 24 hours up to the
    last fetch, for the rows fetched at least once. One query, on `Watched` only: the fetch sums the hours
    (metrics.fetch), so the list never reads the datapoints."""
    rows = list(rows)
    if not rows:
        return Sparklines({}, None)
    keys = {catalog.rule_key(bus, name) for _, bus, name in rows}
    environments = {environment_id for environment_id, _, _ in rows}
    lines, oldest = {}, None
    for environment_id, key, line, fetched_at in (
            Watched.objects.filter(environment_id__in=environments, namespace=catalog.EVENTS, dimensions__in=keys)
            .values_list("environment_id", "dimensions", "sparkline", "fetched_at")):
        lines[(environment_id, key)] = _svg(line or [0.0] * catalog.SPARKLINE_HOURS)
        oldest = fetched_at if oldest is None else min(oldest, fetched_at)
    return Sparklines(lines, oldest)


def _svg(values: list[float]) -> str:
    top = max(values) or 1.0
    step = SPARK_W / (len(values) - 1)
    points = " ".join(f"{i * step:.1f},{SPARK_H - 1 - (v / top) * (SPARK_H - 2):.1f}" for i, v in enumerate(values))
    total = _number(sum(values))
    words = (f"Invocations in the 24 hours up to the last fetch: {total:,}" if total
             else "No invocations in the 24 hours up to the last fetch")
    return format_html(
        '<svg class="sparkline" width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-label="{}" '
        'data-testid="sparkline"><title>{}</title><polyline fill="none" stroke="currentColor" stroke-width="1.5" '
        'points="{}"/></svg>', SPARK_W, SPARK_H, SPARK_W, SPARK_H, words, words, points)


