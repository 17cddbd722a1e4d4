"""Users and groups in the admin site, with every change written to the audit history."""
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.db import transaction

from audit.choices import AuditAction, ObjectType
from audit.recorder import audit_explicit
from audit.services import audit_record

from .models import RoleGrant
from .services import group_snapshot, user_audit, user_snapshot

User = get_user_model()




admin.site.unregister(User)
admin.site.unregister(Group)


class _RoleGrantInline(admin.TabularInline):
    model = RoleGrant
    extra = 1
    fields = ("role", "environment")


class RoleGrantInline(_RoleGrantInline):
    """Roles in one environment only. (Groups, above, are roles in every environment.)"""

    fk_name = "user"
    verbose_name = "role in one environment"
    verbose_name_plural = "roles in one environment only (the groups above count in every environment)"


@admin.register(User)
class AuditedUserAdmin(UserAdmin):
    """Edits made here are audited once the user, its groups and its per-environment roles are saved
    (save_related): the audited snapshot includes the roles granted per environment."""

    inlines = [RoleGrantInline]

    @audit_explicit(User, RoleGrant)  # save_related and delete_model record these pages' changes themselves
    # (the user's snapshot includes its roles per environment)
    def changeform_view(self, *args, **kwargs):
        return super().changeform_view(*args, **kwargs)

    @audit_explicit(User, RoleGrant)
    def delete_view(self, *args, **kwargs):
        return super().delete_view(*args, **kwargs)

    def save_model(self, request, obj, form, change):
        self._audit_before = user_snapshot(User.objects.filter(pk=obj.pk).first()) if change else None
        super().save_model(request, obj, form, change)

    @transaction.atomic
    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user = form.instance
        before = getattr(self, "_audit_before", None)
        password = "password" in form.changed_data or "password1" in form.changed_data
        if before != user_snapshot(user) or password:
            user_audit(user=user, before=before, actor=request.user,
                       message=("User created" if before is None else "User changed")
                       + (" (password set)" if password else ""))

    @transaction.atomic
    def delete_model(self, request, obj):
        audit_record(action=AuditAction.USER_CHANGED, object_type=ObjectType.USER, object_id=obj.pk,
                     object_repr=obj.get_username(), actor=request.user, before=user_snapshot(obj), after=None,
                     message="User deleted")
        super().delete_model(request, obj)


class GroupRoleGrantInline(_RoleGrantInline):
    """Every member of this group holds these roles in these environments."""

    fk_name = "group"
    verbose_name = "role its members hold in one environment"
    verbose_name_plural = "roles its members hold in one environment only"


@admin.register(Group)
class AuditedGroupAdmin(GroupAdmin):
    @audit_explicit(Group, RoleGrant)  # save_related records this page's changes itself (grants included)
    def changeform_view(self, *args, **kwargs):
        return super().changeform_view(*args, **kwargs)
    inlines = [GroupRoleGrantInline]

    def save_model(self, request, obj, form, change):
        self._audit_before = group_snapshot(Group.objects.filter(pk=obj.pk).first()) if change else None
        super().save_model(request, obj, form, change)

    @transaction.atomic
    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        group = form.instance
        before = getattr(self, "_audit_before", None)
        if before != group_snapshot(group):
            audit_record(action=AuditAction.GROUP_CHANGED, object_type=ObjectType.GROUP, object_id=group.pk,
                         object_repr=group.name, actor=request.user, before=before, after=group_snapshot(group),
                         message="Group created" if before is None else "Group changed")
