"""The landing page: what needs the signed-in person (dashboard.selectors gathers it; this view only renders)."""
from django.utils import timezone
from django.views.generic import TemplateView

from changes.views import draft_url

from .selectors import LIST_SIZE, dashboard_for, state_words


class DashboardView(TemplateView):
    template_name = "dashboard/dashboard.html"

    def get_context_data(self, **kwargs):
        board = dashboard_for(self.request.user, now=timezone.now())
        if board.mine is not None:
            for change in board.mine.items:  # a draft is continued in its flow; the rest are read on their page
                change.link = draft_url(change) if change.state == "draft" else change.get_absolute_url()
        return super().get_context_data(board=board, environments=board.environments, list_size=LIST_SIZE,
                                        mine_states=state_words(board.mine_by_state), **kwargs)
