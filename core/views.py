"""The health page and /healthz (thin: the checks live in core.services)."""
from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView

from .services import health_checks_cached


def _sees_health_detail(user) -> bool:
    return user.is_authenticated and user.is_active and (user.is_superuser or user.is_staff)


@never_cache
@require_GET
@login_not_required
def healthz(request):
    """JSON health for load balancers and monitoring: 200 when every check passes, else 503.

    Everyone gets the overall status and each check's "ok"/"down"; only signed-in admins get the
    detail (account ids, ARNs, Regions, the worker's host name, timings).
    """
    checks = health_checks_cached()
    ok = all(c.ok for c in checks)
    if _sees_health_detail(request.user):
        shown = {c.name: c.as_dict() for c in checks}
    else:
        shown = {c.name: c.public() for c in checks}
    return JsonResponse({"status": "ok" if ok else "down", "checks": shown}, status=200 if ok else 503)


class HealthView(TemplateView):
    template_name = "core/health.html"

    def get_context_data(self, **kwargs):
        checks = health_checks_cached()
        return super().get_context_data(checks=checks, ok=all(c.ok for c in checks),
                                        show_detail=_sees_health_detail(self.request.user), **kwargs)
