from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from marketplace import health


@never_cache
def ping(request):
    """The trivial view benchmarks compare pages with: the full middleware stack, no database."""
    return HttpResponse("ok", content_type="text/plain")


@never_cache
@require_safe
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
