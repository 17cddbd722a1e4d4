"""Dashboard, health page and /healthz (thin: the checks live in core.services)."""
from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView

from environments.models import Environment

from .services import health_checks


@never_cache
@require_GET
@login_not_required
def healthz(request):
    """JSON health for load balancers and monitoring: 200 when every check passes, else 503."""
    checks = health_checks()
    ok = all(c.ok for c in checks)
    return JsonResponse(
        {"status": "ok" if ok else "down", "checks": {c.name: c.as_dict() for c in checks}},
        status=200 if ok else 503,
    )


class DashboardView(TemplateView):
    template_name = "core/dashboard.html"

    def get_context_data(self, **kwargs):
        from accounts.permissions import restrict

        environments = restrict(Environment.objects.order_by("name"), self.request.user,
                                "environments.view_environment", field="pk")
        return super().get_context_data(environments=environments, **kwargs)


class HealthView(TemplateView):
    template_name = "core/health.html"

    def get_context_data(self, **kwargs):
        checks = health_checks()
        return super().get_context_data(checks=checks, ok=all(c.ok for c in checks), **kwargs)
