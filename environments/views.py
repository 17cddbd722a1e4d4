"""Environment pages: list, detail, add, edit, delete, Test connection (thin views)."""
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db.models import ProtectedError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views import View
from django.views.generic import CreateView, DeleteView, DetailView, UpdateView
from django_tables2 import SingleTableView

from core.tables import CheckedPaginationMixin

from .forms import EnvironmentForm
from .models import Environment
from .services import environment_delete, environment_save, environment_test_connection
from .tables import EnvironmentTable


class EnvironmentListView(PermissionRequiredMixin, CheckedPaginationMixin, SingleTableView):
    permission_required = "environments.view_environment"
    raise_exception = True
    model = Environment
    table_class = EnvironmentTable
    template_name = "environments/environment_list.html"


class EnvironmentDetailView(PermissionRequiredMixin, DetailView):
    permission_required = "environments.view_environment"
    raise_exception = True
    model = Environment
    template_name = "environments/environment_detail.html"


class EnvironmentCreateView(PermissionRequiredMixin, CreateView):
    permission_required = "environments.add_environment"
    raise_exception = True
    model = Environment
    form_class = EnvironmentForm
    template_name = "environments/environment_form.html"

    def form_valid(self, form):
        self.object = environment_save(form, actor=self.request.user)
        messages.success(self.request, f"Environment {self.object.name} created.")
        return redirect(self.object)


class EnvironmentUpdateView(PermissionRequiredMixin, UpdateView):
    permission_required = "environments.change_environment"
    raise_exception = True
    model = Environment
    form_class = EnvironmentForm
    template_name = "environments/environment_form.html"

    def form_valid(self, form):
        self.object = environment_save(form, actor=self.request.user)
        messages.success(self.request, f"Environment {self.object.name} saved.")
        return redirect(self.object)


class EnvironmentDeleteView(PermissionRequiredMixin, DeleteView):
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
        result = environment_test_connection(environment)
        if request.htmx:
            return render(request, "environments/_connection_result.html", {"result": result})
        level = messages.SUCCESS if result.ok else messages.ERROR
        messages.add_message(request, level, result.message)
        if result.warning:
            messages.warning(request, result.warning)
        return redirect(environment)
