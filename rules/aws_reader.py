"""Reading rules from AWS into the spec's shape: one rule for apply, every managed rule of an
environment for poll.

Only this module and rules.kind (through the change engine) talk to AWS for rules, and only
through the client factory.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings

from changes.kinds import Discovered, DiscoveryPage
from changes.polling import LiveRead
from delivery import policies
from environments import aws
from environments.resources import _token_pages

from .spec import RULE_FIELDS, canonical_rule_spec, rule_arn

PAGE = 100  # ListRules / ListTargetsByRule maximum page size
# The clients a poll calls (changes.polling counts them): the rules, their tags, and the policies of
# the targets that need one (delivery.policies).
POLL_SERVICES = ("events", "resourcegroupstaggingapi", "lambda", "sns", "sqs", "logs")  # the clients a poll calls (changes.polling counts them)


def _not_found(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException"


def spec_from_api(rule: dict[str, Any], targets: list[dict[str, Any]], tags: list[dict[str, Any]]) -> dict[str, Any]:
    """DescribeRule/ListRules + ListTargetsByRule + tags → the spec's shape (with the rule's Arn)."""
    spec = canonical_rule_spec({"Rule": {k: rule.get(k) for k in RULE_FIELDS}, "Targets": targets, "Tags": tags})
    spec["Arn"] = rule.get("Arn", "")
    if rule.get("ManagedBy"):
        spec["ManagedBy"] = rule["ManagedBy"]
    return spec


def list_targets(events, name: str, bus: str) -> list[dict[str, Any]]:
    targets, token = [], None
    while True:
        kwargs = {"Rule": name, "EventBusName": bus, "Limit": PAGE, **({"NextToken": token} if token else {})}
        page = events.list_targets_by_rule(**kwargs)
        targets += page.get("Targets", [])
        token = page.get("NextToken")
        if not token:
            return targets


def read_rule(environment, *, name: str, bus: str) -> dict[str, Any] | None:
    """The rule as AWS has it now, or None when it does not exist."""
    events = aws.client(environment, "events")
    try:
        rule = events.describe_rule(Name=name, EventBusName=bus)
        targets = list_targets(events, name, bus)
        tags = events.list_tags_for_resource(ResourceARN=rule["Arn"]).get("Tags", [])
    except ClientError as exc:
        if _not_found(exc):
            return None
        raise
    return spec_from_api(rule, targets, tags)


def read_delivery(environment, *, spec: dict[str, Any] | None, ours: list[dict], arn: str) -> dict[str, Any]:
    """What the policies of the rule's targets (those of `spec` and those EventConsole added a statement
    to, `ours`) hold now: delivery.policies' state, with "Ours"."""
    resources = policies.resources_of(policies.needs(canonical_rule_spec(spec), rule_arn=arn), ours)
    state = policies.read(lambda service: aws.client(environment, service), resources)
    return {**state, "Ours": list(ours)}


def rule_arn_in(environment, *, name: str, bus: str) -> str:
    return rule_arn(region=environment.region, account=environment.account_id, bus=bus, name=name) \
        if environment.region and environment.account_id else ""


def list_rules(environment, bus: str) -> dict[str, dict[str, Any]]:
    """Every rule on `bus` (ListRules, paginated): name → the ListRules entry."""
    events = aws.client(environment, "events")
    rules, token = {}, None
    while True:
        try:
            page = events.list_rules(EventBusName=bus, Limit=PAGE, **({"NextToken": token} if token else {}))
        except ClientError as exc:
            if _not_found(exc):  # the bus itself is gone
                return {}
            raise
        for rule in page.get("Rules", []):
            rules[rule["Name"]] = rule
        token = page.get("NextToken")
        if not token:
            return rules


def use_tagging_api(environment) -> bool:
    """GetResources reads every rule's tags in a few calls, but moto 5.2 lists only event buses there
    (not rules), so on an emulator (setting "auto") tags are read per rule instead."""
    mode = settings.POLL_TAGS_WITH_TAGGING_API
    return mode == "always" or (mode == "auto" and not environment.is_emulated)


def tags_by_arn(environment) -> dict[str, list[dict[str, str]]] | None:
    """Tags of every tagged rule in the Region in a few paged calls (Resource Groups Tagging API).

    None when that API is not used or not allowed, so the caller reads ListTagsForResource per rule.
    """
    if not use_tagging_api(environment):
        return None
    tagging = aws.client(environment, "resourcegroupstaggingapi")
    found: dict[str, list[dict[str, str]]] = {}
    token = ""
    try:
        while True:
            page = tagging.get_resources(ResourceTypeFilters=["events:rule"], ResourcesPerPage=100,
                                         PaginationToken=token)
            for item in page.get("ResourceTagMappingList", []):
                found[item["ResourceARN"]] = item.get("Tags", [])
            token = page.get("PaginationToken") or ""
            if not token:
                return found
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("AccessDeniedException", "AccessDenied",
                                                          "UnauthorizedOperation"):
            return None
        raise


def read_polled(environment, rules) -> LiveRead:
    """What AWS has now for each of `rules` (managed rules of `environment`), for the poll.

    Calls: ListRules per bus (paged, 100 a page: it returns the whole rule but its targets and tags),
    ListTargetsByRule per rule, and the Resource Groups Tagging API's GetResources for every rule's
    tags in a few paged calls. That is one call per rule plus paging. Where GetResources is not
    allowed, or on the local emulator (moto does not list rules there), tags are read with
    ListTagsForResource per rule: two calls per rule plus paging.

    Then the policies of the targets that need one: one read per distinct function, topic or queue
    (however many rules target it) and one paged DescribeResourcePolicies for every log group.
    """
    listings = {bus: list_rules(environment, bus) for bus in {rule.event_bus_name for rule in rules}}
    tags = tags_by_arn(environment) if rules else {}
    events = aws.client(environment, "events")
    found = LiveRead()
    # The targets' policies: one read per distinct resource, whatever number of rules share it.
    wanted: dict[int, list[tuple[str, str]]] = {}
    for rule in rules:
        entry = listings[rule.event_bus_name].get(rule.name)
        if entry is not None and rule.desired_spec is not None:
            wanted[rule.pk] = policies.resources_of(
                policies.needs(canonical_rule_spec(rule.desired_spec), rule_arn=entry["Arn"]),
                rule.delivery_statements or [])
    shared = policies.read(lambda service: aws.client(environment, service),
                           {r for resources in wanted.values() for r in resources})
    for rule in rules:
        entry = listings[rule.event_bus_name].get(rule.name)
        if entry is None:
            found.live[rule.pk] = None
            continue
        targets = list_targets(events, rule.name, rule.event_bus_name)
        rule_tags = (tags.get(entry["Arn"], []) if tags is not None
                     else events.list_tags_for_resource(ResourceARN=entry["Arn"]).get("Tags", []))
        found.live[rule.pk] = spec_from_api(entry, targets, rule_tags)
        if rule.pk in wanted:
            found.live[rule.pk]["Delivery"] = {**policies.subset(shared, wanted[rule.pk]),
                                               "Ours": list(rule.delivery_statements or [])}
        found.reads += 1
    return found


# ---------------------------------------------------------------------------------------------
# Discovery (inventory.discovery): every rule on every bus of the account and Region
# ---------------------------------------------------------------------------------------------
DISCOVER_SERVICES = ("events", "resourcegroupstaggingapi")
# The live tail's temporary rules (tail app) start with this; discovery leaves them out: they are EventConsole's
# own, live for minutes, and are removed by the tail or its sweep, never adopted.
TEMPORARY_RULE_PREFIX = "eventconsole-tail-"
DISCOVER_FIELDS = ()  # nothing on a stored rule says whether it changed: rules have no timestamps
READERS = 8  # rules whose targets and tags are read at once (boto3 clients are thread-safe)


def list_buses(environment) -> list[str]:
    """Every event bus's name (ListEventBuses has no paginator: NextToken followed, 100 a page)."""
    events = aws.client(environment, "events")
    return [bus["Name"] for bus in _token_pages(events.list_event_buses, "EventBuses", Limit=PAGE)]


def discover(environment, *, known: Mapping[tuple[str, str], Any]) -> Iterator[DiscoveryPage]:
    """Every rule of the environment, one ListRules page (100 rules) at a time.

    Calls: ListEventBuses (1 per 100 buses), ListRules per bus (1 per 100 rules, at least 1), then for
    each rule EventConsole does not manage ListTargetsByRule (1 per 100 targets) and its tags: from
    the Tagging API's GetResources (1 per 100 tagged rules in the Region, once) where it is used, else
    ListTagsForResource per rule. A managed rule (known, not unmanaged) is only seen, not read: the
    poll reads it. A rule or bus deleted while this runs is left out (it is gone).
    """
    events = aws.client(environment, "events")
    tags = tags_by_arn(environment)

    def read(entry: dict[str, Any]) -> Discovered | None:
        name, bus = entry["Name"], entry.get("EventBusName") or "default"
        try:
            targets = list_targets(events, name, bus)
            rule_tags = (tags.get(entry["Arn"], []) if tags is not None
                         else events.list_tags_for_resource(ResourceARN=entry["Arn"]).get("Tags", []))
        except ClientError as exc:
            if _not_found(exc):
                return None
            raise
        return Discovered(bus, name, spec_from_api(entry, targets, rule_tags), owner_service=entry.get("ManagedBy", ""))

    with ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="discover-rules") as pool:
        for bus in list_buses(environment):
            token = None
            while True:
                try:
                    page = events.list_rules(EventBusName=bus, Limit=PAGE, **({"NextToken": token} if token else {}))
                except ClientError as exc:
                    if _not_found(exc):  # the bus was deleted meanwhile
                        break
                    raise
                entries = [{**entry, "EventBusName": bus} for entry in page.get("Rules", [])
                           if not entry["Name"].startswith(TEMPORARY_RULE_PREFIX)]
                seen = [Discovered(bus, e["Name"], None) for e in entries
                        if (row := known.get((bus, e["Name"]))) is not None and row.is_managed]
                to_read = [e for e in entries if (row := known.get((bus, e["Name"]))) is None or not row.is_managed]
                found = seen + [one for one in pool.map(read, to_read) if one is not None]
                yield DiscoveryPage(f"event bus {bus}", found)
                token = page.get("NextToken")
                if not token:
                    break


def stack_key(physical_id: str) -> tuple[str, str]:
    """An AWS::Events::Rule's PhysicalResourceId: the rule name on the default bus, "bus|name" on
    another bus (docs/aws-behaviours.md, "Discovery")."""
    bus, _, name = physical_id.rpartition("|")
    return bus or "default", name
