from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_safe


@login_required
@require_safe
def dashboard(request):
    return render(request, "affiliates/creator_center/dashboard.html")
