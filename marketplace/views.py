from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from marketplace import health


@require_GET
def home(request):
    return render(request, "storefront/home.html")


@never_cache
@require_GET
def healthz(request):
    database = health.check_database()
    broker = health.check_broker()
    healthy = database.ok and broker.ok
    body = {
        "status": "ok" if healthy else "down",
        "database": database.as_dict(),
        "broker": broker.as_dict(),
    }
    if database.ok:
        body["jobs"] = health.jobs_last_heartbeat()
    return JsonResponse(body, status=200 if healthy else 503)
