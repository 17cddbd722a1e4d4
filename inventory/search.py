"""One search across every environment a person may see, over every kind's objects (rules and schedules),
managed or not: by name, by anything in the pattern or schedule expression, by target ARN, by tag, by
role (the search columns each kind's `denormalise` fills, changes.search), filtered by environment, kind,
managed or unmanaged and sync status.

The kinds are read through the registry (changes.kinds), so a third kind is searched without a change
here. A page takes three queries for two kinds whatever the page size (SearchResults says which). Exports stream every matching row (inventory.views).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import CharField, F, Q, Value
from django.urls import reverse

from accounts.permissions import ALL, environments_where, restrict
from changes import kinds
from changes.choices import SYNC_COLORS, SyncStatus
from changes.filtersets import MANAGED_CHOICES, filter_managed
from changes.search import compact_query
from core.tables import owner_label
from environments.models import Environment

__all__ = ["IN_CHOICES", "SearchForm", "Result", "SearchResults", "inventory_search", "visible_environments", "QUERY_MAX"]

IN_CHOICES = [("anything", "Anything"), ("name", "Name"), ("pattern", "Pattern or expression"),
              ("target", "Target ARN"), ("tag", "Tag (key=value)"), ("role", "Role ARN")]
QUERY_MAX = 512  # characters of a query: a long ARN fits, a pasted document does not
FIELDS = ("id", "name", "environment_id", "environment__name", "environment__account_id", "environment__region",
          "sync_status", "owner_service", "stack_name", "state")


def visible_environments(user):
    """The environments where `user` may see the objects of at least one kind."""
    ids: set[int] = set()
    for kind in kinds.all_kinds():
        where = environments_where(user, kind.view_permission)
        if where is ALL:
            return Environment.objects.order_by("name")
        ids |= set(where)
    return Environment.objects.filter(pk__in=sorted(ids)).order_by("name")


class SearchForm(forms.Form):
    """The query string of the search page and its exports; a bad value is said at its field, never a 500."""

    q = forms.CharField(label="Search", required=False, max_length=QUERY_MAX, strip=True)
    environment = forms.ModelChoiceField(label="Environment", queryset=Environment.objects.none(), required=False,
                                         empty_label="Every environment")
    kind = forms.ChoiceField(label="Kind", required=False, choices=[])
    managed = forms.ChoiceField(label="Managed", required=False, choices=MANAGED_CHOICES)
    status = forms.ChoiceField(label="Status", required=False,
                               choices=[("", "Any status")] + list(SyncStatus.choices))

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["environment"].queryset = visible_environments(user)
        self.fields["kind"].choices = [("", "Rules and schedules")] + [
            (kind.name, kind.model_class._meta.verbose_name_plural.capitalize()) for kind in kinds.all_kinds()]


# "in" is a Python keyword, so the field is added by name (the query string says ?q=…&in=target).
SearchForm.base_fields["in"] = forms.ChoiceField(label="In", required=False, choices=IN_CHOICES)
SearchForm.declared_fields["in"] = SearchForm.base_fields["in"]
SearchForm.base_fields = {name: SearchForm.base_fields[name]
                          for name in ("q", "in", "environment", "kind", "managed", "status")}


def _condition(query: str, where: str) -> Q:
    """The objects whose `where` column holds `query` (the search columns are lower-case already)."""
    lowered = query.lower()
    if where == "name":
        return Q(name__icontains=query)
    if where == "pattern":
        return Q(search_pattern__contains=lowered) | Q(search_pattern__contains=compact_query(query))
    column = {"target": "search_targets", "tag": "search_tags", "role": "search_roles"}.get(where)
    if column:
        return Q(**{f"{column}__contains": lowered})
    return (Q(name__icontains=query) | Q(description__icontains=query) | Q(search_pattern__contains=lowered)
            | Q(search_pattern__contains=compact_query(query)) | Q(search_targets__contains=lowered)
            | Q(search_roles__contains=lowered) | Q(search_tags__contains=lowered))


def _matching(kind: kinds.Kind, user, params: dict[str, Any]):
    """The kind's objects `user` may see that match `params`, unordered."""
    rows = restrict(kind.model_class.objects.all(), user, kind.view_permission)
    if params.get("q"):
        rows = rows.filter(_condition(params["q"], params.get("in") or "anything"))
    if params.get("environment") is not None:
        rows = rows.filter(environment=params["environment"])
    if params.get("status"):
        rows = rows.filter(sync_status=params["status"])
    return filter_managed(rows, params.get("managed") or "all").order_by()


class SearchResults:
    """Every object `user` may see that matches `params` (a valid SearchForm's cleaned_data), across kinds,
    ordered by name, then kind, then id: what a Paginator and the exports take.

    Without a text query the filters are indexed: a page is one UNION ALL of one `values()` query per kind
    (merged in name order, stopping after the page), counted by one plain COUNT per kind.

    A text query (`contains` on a search column) has to read every row of each table, so it is read once:
    each kind's matches as (name, id), at most SMALL of them (the scan stops there); the page is cut from
    those in Python and its rows read by id (one query). A kind with more matches than that falls back to
    the COUNT + UNION page above, whose name-ordered walk finds a page of such a common match quickly.
    """

    SMALL = 5000

    def __init__(self, user, params: dict[str, Any]):
        chosen = [kind for kind in kinds.all_kinds() if not params.get("kind") or kind.name == params["kind"]]
        self.parts = [(kind, _matching(kind, user, params)) for kind in chosen]
        self.text = bool(params.get("q"))
        self._keys: list[tuple[str, str, int]] | None = None
        self._counted: dict[str, int] = {}  # kinds whose matches were all read: how many
        self._read = False

    def _matches(self) -> list[tuple[str, str, int]] | None:
        """For a text query: (name, kind, id) of every match in page order, when no kind has more than SMALL."""
        if self.text and not self._read:
            self._read = True
            keys = []
            for kind, rows in self.parts:
                pairs = list(rows.values_list("name", "id")[:self.SMALL + 1])
                if len(pairs) > self.SMALL:
                    return None
                self._counted[kind.name] = len(pairs)
                keys += [(name, kind.name, pk) for name, pk in pairs]
            self._keys = sorted(keys)
        return self._keys

    def count(self) -> int:
        keys = self._matches()
        if keys is not None:
            return len(keys)
        return sum(self._counted[kind.name] if kind.name in self._counted else rows.count()
                   for kind, rows in self.parts)

    def __len__(self) -> int:
        return self.count()

    def _values(self, parts):
        parts = [rows.values(*FIELDS, kind=Value(kind.name, output_field=CharField()),
                             container=F(kind.container_field or "name")) for kind, rows in parts]
        if not parts:
            return kinds.all_kinds()[0].model_class.objects.none().values(*FIELDS)
        return parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]

    def rows(self):
        """The queryset of dicts, in the page's order."""
        return self._values(self.parts).order_by("name", "kind", "id")

    def __getitem__(self, index):
        keys = self._matches()
        if keys is None or not isinstance(index, slice):
            return self.rows()[index]
        chosen = keys[index]
        ids: dict[str, list[int]] = {}
        for _, kind, pk in chosen:
            ids.setdefault(kind, []).append(pk)
        parts = [(kind, rows.filter(pk__in=ids[kind.name])) for kind, rows in self.parts if kind.name in ids]
        if not parts:
            return []
        return sorted(self._values(parts), key=lambda row: (row["name"], row["kind"], row["id"]))

    def iterator(self, chunk_size: int = 2000):
        return self.rows().iterator(chunk_size=chunk_size)


def inventory_search(user, params: dict[str, Any]) -> SearchResults:
    return SearchResults(user, params)


_URLS: dict[str, str] = {}
SENTINEL = 987654321


def _detail_url(kind_name: str, pk: int) -> str:
    template = _URLS.get(kind_name)
    if template is None:
        kind = kinds.get(kind_name)
        name = f"{kind.url_namespace}:{kind.model_class._meta.model_name}_detail"
        template = _URLS[kind_name] = reverse(name, args=[SENTINEL]).replace(str(SENTINEL), "{}")
    return template.format(pk)


@dataclass
class Result:
    """One row of the search, with what the page and the exports show."""

    kind: str
    id: int
    name: str
    container: str
    environment_id: int
    environment_name: str
    account_id: str
    region: str
    sync_status: str
    owner_service: str
    stack_name: str
    state: str

    @classmethod
    def of(cls, row: dict[str, Any]) -> Result:
        return cls(kind=row["kind"], id=row["id"], name=row["name"], container=row["container"],
                   environment_id=row["environment_id"], environment_name=row["environment__name"],
                   account_id=row["environment__account_id"], region=row["environment__region"],
                   sync_status=row["sync_status"], owner_service=row["owner_service"],
                   stack_name=row["stack_name"], state=row["state"])

    @property
    def kind_label(self) -> str:
        return kinds.get(self.kind).label

    @property
    def managed(self) -> bool:
        return self.sync_status != SyncStatus.UNMANAGED

    @property
    def owner(self) -> str:
        return owner_label(self)

    @property
    def status_label(self) -> str:
        try:
            return SyncStatus(self.sync_status).label
        except ValueError:
            return self.sync_status

    @property
    def status_color(self) -> str:
        return SYNC_COLORS.get(self.sync_status, "secondary")

    @property
    def url(self) -> str:
        return _detail_url(self.kind, self.id)

    def as_record(self) -> dict[str, Any]:
        """What an export writes for this row."""
        return {"kind": self.kind, "environment": self.environment_name, "account": self.account_id,
                "region": self.region, "container": self.container, "name": self.name,
                "managed": self.managed, "owner": self.owner, "sync_status": self.sync_status,
                "state": self.state, "url": self.url}


EXPORT_COLUMNS = ["kind", "environment", "account", "region", "container", "name", "managed", "owner", "sync_status",
                  "state", "url"]
