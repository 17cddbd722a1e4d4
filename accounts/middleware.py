"""A signed-in user with no role anywhere gets a page saying so, never the dashboard."""
from django.contrib.auth.views import LogoutView
from django.shortcuts import render
from django.urls import reverse

from .permissions import has_any_role


def _public(view_func) -> bool:
    view_class = getattr(view_func, "view_class", None)
    return (not getattr(view_func, "login_required", True)
            or (view_class is not None and issubclass(view_class, LogoutView)))


def no_role_response(request):
    """The "you have no role" page: 200 at the console's home, 403 on every other page."""
    from django.contrib.auth import get_user_model

    from .roles import ADMINS

    admins = (get_user_model().objects.filter(is_active=True, groups__name=ADMINS)
              .order_by("username").distinct()[:10])
    status = 200 if request.path == reverse("dashboard:dashboard") else 403
    return render(request, "accounts/no_role.html", {"admins": admins}, status=status)


class NoRoleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or _public(view_func):
            return None
        if has_any_role(user):
            return None
        return no_role_response(request)
