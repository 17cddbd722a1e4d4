"""Change request actions by people: drafts, submit, review, withdraw, retry, restore, comment, and
resolving a stuck change. Every action writes its audit event in the same transaction.

What the workers do with an approved change (claim, apply, recovery) is changes.apply, with the
lease and hand-back in changes.worker;
sending it to them is changes.dispatch.
"""
from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.contrib.auth.models import Permission
from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import REVIEW, SUBMIT, user_can
from audit.choices import AuditAction
from environments import aws

from . import approvals, kinds
from .calls import ApiCall
from .choices import ITEM_ACTIONS, AttemptStatus, ChangeAction, ChangeState as S, ReviewDecision
from .dispatch import enqueue_apply
from .kinds import SpecInvalid, handler_for
from .models import ApplyAttempt, ChangeRequest, Comment, Review
from .objects import discard_unapplied, locked_target, mark_failed
from .states import IllegalTransition, audit_change, transition
from .worker import hand_back, is_stuck, lost_message, send_waiting


class NotAllowed(PermissionError):
    """The user may not do this to this change (e.g. approve their own)."""


def _require(user, perm: str, environment, message: str) -> None:
    """Defence in depth: the views check too, but a service never acts for someone without the role there."""
    if user is not None and not user_can(user, perm, environment):
        raise NotAllowed(message.format(environment=getattr(environment, "name", environment)))



# ---------------------------------------------------------------------------------------------
# Drafts
# ---------------------------------------------------------------------------------------------
COMMENT_MAX = 4000  # characters in a comment (Comment.body)
REASON_MAX = 2000  # characters in an approve/reject reason


def check_text_limit(text: str, *, limit: int, what: str) -> None:
    """ValueError (shown to the person) for text over `limit` or text that cannot be stored."""
    from core.safejson import text_problem

    if len(text) > limit:
        raise ValueError(f"{what} can be at most {limit:,} characters (this one has {len(text):,}).")
    problem = text_problem(text, what)
    if problem:
        raise ValueError(problem)


def change_request_draft_create(*, kind: str, action: str, environment, author, spec: dict | None = None,
                                wizard: dict | None = None, target=None) -> ChangeRequest:
    """A new draft; for an existing object it remembers the spec and version it starts from."""
    _require(author, SUBMIT, environment, "You may not start changes in {environment}.")
    fields: dict[str, Any] = {}
    if target is not None:
        fields = {kind: target, "base_spec": target.desired_spec, "base_version": target.version,
                  "object_name": target.object_name}
    with transaction.atomic():
        change = ChangeRequest.objects.create(kind=kind, action=action, environment=environment, author=author,
                                              spec=spec or {}, wizard=wizard or {}, **fields)
        audit_change(change, AuditAction.DRAFT_SAVED, actor=author, message="Draft started", after=change.spec)
    return change


def change_request_draft_save(change: ChangeRequest, *, actor, step: str, spec: dict, wizard: dict,
                              environment=None) -> ChangeRequest:
    """Save one step of the flow into the draft (what was typed, and the spec so far)."""
    if change.state != S.DRAFT:
        raise IllegalTransition(change, S.DRAFT)
    if change.author_id != actor.pk:
        raise NotAllowed("Only the author can edit a draft.")
    _require(actor, SUBMIT, environment or change.environment, "You may not edit changes in {environment}.")
    with transaction.atomic():
        locked = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        if locked.state != S.DRAFT:
            raise IllegalTransition(locked, S.DRAFT)
        before = locked.spec
        locked.spec, locked.wizard = spec, wizard
        if environment is not None:
            locked.environment = environment
        locked.object_name = handler_for(locked.kind).object_name(spec) or locked.object_name
        locked.save()
        audit_change(locked, AuditAction.DRAFT_SAVED, actor=actor, message=f"Step saved: {step}",
                     before=before, after=spec)
    return locked


# ---------------------------------------------------------------------------------------------
# Submit and review
# ---------------------------------------------------------------------------------------------
def plan_for(change: ChangeRequest) -> tuple[list[ApiCall], str]:
    """The plan against what AWS has now; if AWS cannot be read, against the last polled state."""
    handler = handler_for(change.kind)
    desired = None if change.action == ChangeAction.DELETE else change.spec
    note = ""
    try:
        live = handler.read_live(change.environment, change)
    except (BotoCoreError, ClientError) as exc:
        target = change.target
        live = getattr(target, "live_spec", None)
        note = f"Planned against the last polled state: AWS could not be read ({aws.describe_error(exc)})"
    return handler.plan(desired, live, change=change), note


def change_request_submit(change: ChangeRequest, *, actor) -> ChangeRequest:
    if change.author_id != actor.pk:
        raise NotAllowed("Only the author can submit a draft.")
    _require(actor, SUBMIT, change.environment, "You may not submit changes in {environment}.")
    if change.state != S.DRAFT:
        raise IllegalTransition(change, S.SUBMITTED)
    handler = handler_for(change.kind)
    if change.action in ITEM_ACTIONS:  # its objects (or messages) and their plans are its items (changes.batch)
        calls, note = [], ""
    else:
        if change.action != ChangeAction.DELETE:
            errors = handler.validate(change.spec, environment=change.environment)
            if errors:
                raise SpecInvalid(errors)
        with transaction.atomic():
            handler.ensure_object(change)  # raises ObjectConflict when the name is taken
            change.save(update_fields=[kinds.get(change.kind).change_field, "object_name", "last_updated"])
        calls, note = plan_for(change)
    rows = approvals.requirements(change, reviews=[])
    reaches = "; ".join(approvals.explain(row) for row in rows if row.reason)
    transition(change, S.SUBMITTED, actor=actor, plan=[c.as_dict() for c in calls],
               message="; ".join(m for m in (note, reaches) if m))
    if not approvals.needs_review(rows):
        transition(change, S.APPROVED, on_behalf_of=actor,
                   message=f"{change.environment.name} needs no approval: applying at once")
        enqueue_apply(change)
    else:
        _notify_reviewers(change, rows)
    return change


def _reviewers_for(change: ChangeRequest, rows=None):
    """Reviewers (by role group, or granted the role in an environment that must approve), never the author."""
    from django.contrib.auth import get_user_model

    from accounts.roles import ROLE_PERMISSIONS

    permission = Permission.objects.get(content_type__app_label="changes", codename="review_changerequest")
    environments = [row.environment.pk for row in rows or [] if row.needed > 0] or [change.environment_id]
    granted = [role for role, perms in ROLE_PERMISSIONS.items() if REVIEW in perms]
    return (get_user_model().objects.filter(is_active=True)
            .filter(Q(groups__permissions=permission) | Q(user_permissions=permission) | Q(is_superuser=True)
                    | Q(role_grants__environment__in=environments, role_grants__role__in=granted)
                    | Q(groups__role_grants__environment__in=environments, groups__role_grants__role__in=granted))
            .exclude(pk=change.author_id).exclude(email="").distinct())


def _notify_reviewers(change: ChangeRequest, rows=None) -> None:
    url = reverse("changes:change_detail", args=[change.pk])
    messages = [(f"[EventConsole] Review requested: {change}",
                 f"{change.author.get_username()} submitted {change} in {change.environment.name}.\n"
                 f"Review it at {url}\n", None, [user.email]) for user in _reviewers_for(change, rows)]
    if messages:
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))


def _notify_author(change: ChangeRequest, decision: str) -> None:
    if change.author.email:
        subject = f"[EventConsole] {change} was {decision}"
        url = reverse("changes:change_detail", args=[change.pk])
        messages = [(subject, f"{subject}.\n{url}\n", None, [change.author.email])]
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))


def change_request_approve(change: ChangeRequest, *, reviewer, reason: str = "") -> ChangeRequest:
    """Record one approval; when enough reviewers approved, the change is approved and applied.

    The author can never approve; one person's approval counts once; two reviewers approving at
    the same moment apply once (the row lock serialises them, and only one sees the count reached).
    Every environment the change must satisfy (its own, and those its targets reach: see
    changes.approvals) counts the approvals of its own reviewers.
    """
    check_text_limit(reason, limit=REASON_MAX, what="A reason")
    if not reviewer.has_perm(REVIEW):
        raise NotAllowed("Only reviewers can approve changes.")
    if reviewer.pk == change.author_id:
        raise NotAllowed("You cannot approve your own change.")
    with transaction.atomic():
        locked = ChangeRequest.objects.select_for_update(of=("self",)).select_related("environment").get(pk=change.pk)
        if locked.state != S.SUBMITTED:
            raise IllegalTransition(locked, S.APPROVED)
        rows = approvals.requirements(locked)
        if not approvals.may_approve(reviewer, rows):
            names = ", ".join(row.environment.name for row in rows if row.needed > 0) or locked.environment.name
            raise NotAllowed(f"Only a reviewer in {names} can approve this change.")
        try:
            with transaction.atomic():
                Review.objects.create(change=locked, reviewer=reviewer, decision=ReviewDecision.APPROVE, reason=reason)
        except IntegrityError:
            raise NotAllowed("You have already reviewed this change; an approval counts once.") from None
        rows = approvals.requirements(locked)
        summary = approvals.summary(rows)
        if approvals.all_met(rows):
            transition(locked, S.APPROVED, actor=reviewer, message=reason or f"Approved ({summary})")
            enqueue_apply(locked)
            _notify_author(locked, "approved")
        else:
            audit_change(locked, AuditAction.APPROVED, actor=reviewer,
                         message=f"Approval recorded ({summary})" + (f": {reason}" if reason else ""))
    change.refresh_from_db()
    return change


def change_request_reject(change: ChangeRequest, *, reviewer, reason: str) -> ChangeRequest:
    check_text_limit(reason, limit=REASON_MAX, what="A reason")
    if not reviewer.has_perm(REVIEW):
        raise NotAllowed("Only reviewers can reject changes.")
    if not approvals.may_reject(reviewer, approvals.requirements(change, reviews=[])):
        raise NotAllowed(f"Only a reviewer in {change.environment.name} (or an environment it reaches) can reject it.")
    if reviewer.pk == change.author_id:
        raise NotAllowed("You cannot review your own change; withdraw it instead.")
    if not reason.strip():
        raise ValueError("Say why the change is rejected.")
    with transaction.atomic():
        # Refused before anything changes (a stale tab: this reviewer approved it already).
        if change.reviews.filter(reviewer=reviewer).exists():
            raise NotAllowed("You have already reviewed this change (you approved it); a reviewer decides once.")
        transition(change, S.REJECTED, actor=reviewer, message=reason)
        try:
            with transaction.atomic():
                Review.objects.create(change=change, reviewer=reviewer, decision=ReviewDecision.REJECT, reason=reason)
        except IntegrityError:
            raise NotAllowed("You have already reviewed this change; a reviewer decides once.") from None
        discard_unapplied(change)
        _notify_author(change, "rejected")
    return change


def change_request_withdraw(change: ChangeRequest, *, actor) -> ChangeRequest:
    if actor.pk != change.author_id:
        raise NotAllowed("Only the author can withdraw a change.")
    _require(actor, SUBMIT, change.environment, "You may no longer change anything in {environment}.")
    with transaction.atomic():
        transition(change, S.WITHDRAWN, actor=actor)
        discard_unapplied(change)
    return change


def change_request_retry(change: ChangeRequest, *, actor) -> ChangeRequest:
    """Failed → Approved, and apply again (the same change, the same spec)."""
    if not ((actor.pk == change.author_id and user_can(actor, SUBMIT, change.environment))
            or user_can(actor, REVIEW, change.environment)):
        raise NotAllowed(f"Only the author or a reviewer in {change.environment.name} can retry a failed change.")
    transition(change, S.APPROVED, actor=actor, expect=(S.FAILED,), message="Retry")
    enqueue_apply(change)
    return change


def change_request_back_to_draft(change: ChangeRequest, *, actor) -> ChangeRequest:
    """A failed or stale change becomes a new draft with the same inputs; the old one is withdrawn."""
    if actor.pk != change.author_id:
        raise NotAllowed("Only the author can take a change back to a draft.")
    _require(actor, SUBMIT, change.environment, "You may not start changes in {environment}.")
    with transaction.atomic():
        if change.state != S.STALE:
            transition(change, S.WITHDRAWN, actor=actor, message="Taken back to a draft")
        target = change.target
        draft = change_request_draft_create(kind=change.kind, action=change.action, environment=change.environment,
                                            author=actor, spec=change.spec, wizard=change.wizard,
                                            target=target if target is not None and target.version else None)
        draft.rebased_from = change
        draft.object_name = change.object_name
        draft.save(update_fields=["rebased_from", "object_name"])
    return draft


def change_request_restore(change: ChangeRequest, *, actor) -> ChangeRequest:
    """A new draft that puts back the spec an applied change sent to AWS ("Restore this version")."""
    if change.state != S.APPLIED or change.action == ChangeAction.DELETE:
        raise NotAllowed("Only a version that was applied (and was not a deletion) can be restored.")
    _require(actor, SUBMIT, change.environment, "You may not start changes in {environment}.")
    handler = handler_for(change.kind)
    target = change.target
    draft = change_request_draft_create(
        kind=change.kind, action=ChangeAction.RESTORE, environment=change.environment, author=actor,
        spec=change.spec, target=target, wizard=handler.wizard_from_spec(change.spec, environment=change.environment))
    draft.object_name = change.object_name
    draft.save(update_fields=["object_name"])
    return draft


def change_request_comment(change: ChangeRequest, *, author, body: str) -> Comment:
    if not (user_can(author, SUBMIT, change.environment) or user_can(author, REVIEW, change.environment)
            or approvals.may_reject(author, approvals.requirements(change, reviews=[]))):
        raise NotAllowed(f"Only operators and reviewers of {change.environment.name} can comment here.")
    body = body.strip()
    if not body:
        raise ValueError("A comment cannot be empty.")
    check_text_limit(body, limit=COMMENT_MAX, what="A comment")
    with transaction.atomic():
        comment = Comment.objects.create(change=change, author=author, body=body)
        audit_change(change, AuditAction.COMMENTED, actor=author, message=body[:500])
    return comment


# ---------------------------------------------------------------------------------------------
# Resolving a stuck change by hand (reviewers and admins)
# ---------------------------------------------------------------------------------------------
def _check_resolver(actor, change: ChangeRequest) -> None:
    if not user_can(actor, REVIEW, change.environment):
        raise NotAllowed(f"Only reviewers and admins in {change.environment.name} can resolve a stuck change.")
    if not is_stuck(change):
        if change.state == S.APPLYING:
            raise NotAllowed(f"A worker is applying this change now (its lease runs until "
                             f"{change.lease_expires:%H:%M:%S} UTC); it is not stuck.")
        if change.state == S.APPROVED:
            raise NotAllowed("This change was sent to the workers moments ago; it is not stuck yet.")
        raise IllegalTransition(change, S.APPROVED)


def change_request_retry_now(change: ChangeRequest, *, actor) -> ChangeRequest:
    """A stuck change is sent to the workers again; a lost worker's change is handed back first."""
    change.refresh_from_db()
    _check_resolver(actor, change)
    if change.state == S.APPLYING:
        hand_back(change, actor=actor, message=f"Retry now, by {actor.get_username()}: " + lost_message(change))
        return change
    with transaction.atomic():
        locked = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        if locked.state != S.APPROVED:
            raise IllegalTransition(locked, S.APPROVED)
        audit_change(locked, AuditAction.APPROVED, actor=actor,
                     message="Retry now: sent to the workers again (no worker had taken it)")
        enqueue_apply(locked)
    change.refresh_from_db()
    return change


def change_request_mark_failed(change: ChangeRequest, *, actor, reason: str) -> ChangeRequest:
    """A stuck change ends as Failed, with the reviewer's reason; its author can then retry, withdraw
    or take it back to a draft. What reached AWS stays (the object shows as apply failed until polled)."""
    if not reason.strip():
        raise ValueError("Say why the change is marked failed.")
    check_text_limit(reason, limit=REASON_MAX, what="A reason")
    change.refresh_from_db()
    _check_resolver(actor, change)
    message = f"Marked failed by {actor.get_username()}: {reason.strip()}"
    with transaction.atomic():
        locked_target(change)
        locked = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        if not is_stuck(locked):
            raise IllegalTransition(locked, S.FAILED)
        ApplyAttempt.objects.filter(change=locked, status=AttemptStatus.RUNNING).update(
            status=AttemptStatus.FAILED, finished=timezone.now(), error_code="MarkedFailed", error_message=message)
        transition(locked, S.FAILED, actor=actor, message=message, last_error=message)
        mark_failed(locked)
        send_waiting(locked)
    change.refresh_from_db()
    return change
