"""Environment pages: list, detail, add, edit, delete, Test connection (thin views)."""
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import ProtectedError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views import View
from django.views.generic import CreateView, DeleteView, DetailView, UpdateView
from django_tables2 import SingleTableView

from accounts.permissions import restrict, user_can
from core.tables import CheckedPaginationMixin

from .forms import EnvironmentForm
from .models import Environment
from .services import environment_delete, environment_save, environment_test_connection
from .tables import EnvironmentTable


class InEnvironmentMixin:
    """The permission is checked again in the environment itself (a role may be granted there only)."""

    def get_object(self, queryset=None):
        environment = super().get_object(queryset)
        if not user_can(self.request.user, self.permission_required, environment):
            raise PermissionDenied(f"Your role in {environment.name} does not include this.")
        return environment


class EnvironmentListView(PermissionRequiredMixin, CheckedPaginationMixin, SingleTableView):
    permission_required = "environments.view_environment"
    raise_exception = True
    model = Environment
    table_class = EnvironmentTable
    template_name = "environments/environment_list.html"

    def get_queryset(self):
        return restrict(Environment.objects.order_by("name"), self.request.user, self.permission_required, field="pk")


class EnvironmentDetailView(PermissionRequiredMixin, InEnvironmentMixin, DetailView):
    permission_required = "environments.view_environment"
    raise_exception = True
    model = Environment
    template_name = "environments/environment_detail.html"

    def get_context_data(self, **kwargs):
        user, environment = self.request.user, self.object
        return super().get_context_data(
            can_edit=user_can(user, "environments.change_environment", environment),
            can_delete=user_can(user, "environments.delete_environment", environment),
            can_test=user_can(user, "environments.test_connection", environment), **kwargs)


class EnvironmentFormMixin:
    """Add and Edit: the form saved through the service (audited), then "Environment <name> <done>."."""

    raise_exception = True
    model = Environment
    form_class = EnvironmentForm
    template_name = "environments/environment_form.html"
    done = ""

    def form_valid(self, form):
        self.object = environment_save(form, actor=self.request.user)
        messages.success(self.request, f"Environment {self.object.name} {self.done}.")
        return redirect(self.object)


class EnvironmentCreateView(PermissionRequiredMixin, EnvironmentFormMixin, CreateView):
    permission_required = "environments.add_environment"
    done = "created"


class EnvironmentUpdateView(PermissionRequiredMixin, InEnvironmentMixin, EnvironmentFormMixin, UpdateView):
    permission_required = "environments.change_environment"
    done = "saved"


class EnvironmentDeleteView(PermissionRequiredMixin, InEnvironmentMixin, DeleteView):
    permission_required = "environments.delete_environment"
    raise_exception = True
    model = Environment
    template_name = "environments/environment_confirm_delete.html"
    success_url = reverse_lazy("environments:environment_list")
    # DeleteView's delete() would remove the row directly: no service, no audit, a 500 when protected.
    http_method_names = ["get", "post", "head", "options"]

    def form_valid(self, form):
        name = self.object.name
        try:
            environment_delete(self.object, actor=self.request.user)
        except ProtectedError:
            messages.error(self.request, f"{name} still has rules, schedules or changes; remove them first.")
            return redirect(self.object)
        messages.success(self.request, f"Environment {name} deleted.")
        return redirect(self.success_url)


class EnvironmentTestConnectionView(PermissionRequiredMixin, View):
    """POST: call STS GetCallerIdentity and show the account, or the error in words."""

    permission_required = "environments.test_connection"
    raise_exception = True

    def post(self, request, pk):
        environment = get_object_or_404(Environment, pk=pk)
        if not user_can(request.user, self.permission_required, environment):
            raise PermissionDenied(f"Your role in {environment.name} does not include Test connection.")
        result = environment_test_connection(environment)
        if request.htmx:
            return render(request, "environments/_connection_result.html", {"result": result})
        level = messages.SUCCESS if result.ok else messages.ERROR
        messages.add_message(request, level, result.message)
        if result.warning:
            messages.warning(request, result.warning)
        return redirect(environment)
