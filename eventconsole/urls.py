"""URLs. Everything requires sign-in (LoginRequiredMiddleware) except sign-in itself, /healthz and /favicon.ico."""
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.templatetags.static import static
from django.urls import include, path, reverse
from django.views.generic import RedirectView

from core.signin import SignInForm
from core.views import healthz

admin.site.site_header = "EventConsole administration"
admin.site.site_title = "EventConsole"


@login_not_required
def admin_login(request, extra_context=None):
    """One sign-in page for the whole console: the admin site sends people to it."""
    if request.user.is_authenticated:
        raise PermissionDenied("The admin site is for Admins only.")
    return auth_views.redirect_to_login(request.GET.get("next") or reverse("admin:index"))


admin.site.login = admin_login

urlpatterns = [
    path("", include("dashboard.urls")),
    path("", include("core.urls")),
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico whatever the page says: send them, signed in or not, to the static file.
    path("favicon.ico", login_not_required(RedirectView.as_view(url=static("favicon.ico"), permanent=True)),
         name="favicon"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True,
                                                         authentication_form=SignInForm), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("environments/", include("environments.urls")),
    path("rules/", include("rules.urls")),
    path("schedules/", include("schedules.urls")),
    path("reviews/", include("changes.urls")),
    path("audit/", include("audit.urls")),
    path("inventory/", include("inventory.urls")),
    path("listen/", include("tail.urls")),
    path("dead-letters/", include("dead_letters.urls")),
    path("metrics/", include("metrics.urls")),
    path("admin/", admin.site.urls),
]
