"""The four roles and what each may do. Groups are kept in step with this table after every migrate.

Permissions are enforced on the server (PermissionRequiredMixin on every view), never only by
hiding buttons.
"""
OPERATORS, REVIEWERS, VIEWERS, ADMINS = "Operators", "Reviewers", "Viewers", "Admins"
ROLE_NAMES = (OPERATORS, REVIEWERS, VIEWERS, ADMINS)

_READ = [
    "environments.view_environment",
    "core.view_heartbeat",
    "rules.view_rule",
    "schedules.view_schedule",
    "changes.view_changerequest",
    "audit.view_auditevent",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    VIEWERS: _READ,
    OPERATORS: _READ + [
        "environments.test_connection",
        "changes.submit_changerequest",
    ],
    REVIEWERS: _READ + [
        "environments.test_connection",
        "changes.review_changerequest",
    ],
    ADMINS: _READ + [
        "environments.test_connection",
        "changes.submit_changerequest",
        "changes.review_changerequest",
        "environments.add_environment",
        "environments.change_environment",
        "environments.delete_environment",
        "auth.view_user", "auth.add_user", "auth.change_user", "auth.delete_user",
        "auth.view_group", "auth.change_group",
        # roles granted in one environment (the inline on a user's admin page)
        "accounts.view_rolegrant", "accounts.add_rolegrant", "accounts.change_rolegrant",
        "accounts.delete_rolegrant",
        # the metrics fetches (calls, partial results, errors) on the admin site
        "metrics.view_fetch",
    ],
}

ROLE_DESCRIPTIONS = {
    OPERATORS: "edit drafts and submit changes",
    REVIEWERS: "approve or reject changes",
    VIEWERS: "read only",
    ADMINS: "manage environments and users",
}
