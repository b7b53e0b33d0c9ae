"""Public policy pages: anyone can read the rules sellers, creators and shoppers agree to."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from marketplace.markdown import render_markdown
from policies.models import PolicyDocument, PolicyVersion
from policies.selectors import (
    policy_index_entries,
    policy_version_in_force,
    policy_version_next_scheduled,
    policy_version_superseded_by,
    policy_versions_taken_effect,
)

HISTORY_PAGE_SIZE = 25


@require_safe
def index(request):
    return render(request, "policies/index.html", {"entries": policy_index_entries()})


@require_safe
def detail(request, slug):
    document = get_object_or_404(PolicyDocument, slug=slug)
    now = timezone.now()
    version = policy_version_in_force(document=document, at=now)
    if version is None:
        raise Http404("This policy has no version in force yet.")
    history = Paginator(policy_versions_taken_effect(document=document, at=now), HISTORY_PAGE_SIZE)
    return render(
        request,
        "policies/detail.html",
        {
            "document": document,
            "version": version,
            "body": render_markdown(version.body_markdown),
            "next_version": policy_version_next_scheduled(document=document, at=now),
            "history_page": history.get_page(request.GET.get("page")),
        },
    )


@require_safe
def version(request, slug, number):
    document = get_object_or_404(PolicyDocument, slug=slug)
    shown = get_object_or_404(PolicyVersion, document=document, number=number)
    now = timezone.now()
    scheduled = shown.effective_at > now
    # A scheduled text may still change, so only staff preview it; the public sees its date on
    # the policy page and the text once it takes effect.
    if scheduled and not request.user.is_staff:
        raise Http404("This version has not taken effect yet.")
    return render(
        request,
        "policies/version.html",
        {
            "document": document,
            "version": shown,
            "body": render_markdown(shown.body_markdown),
            "scheduled": scheduled,
            "superseded_by": None
            if scheduled
            else policy_version_superseded_by(version=shown, at=now),
        },
    )
