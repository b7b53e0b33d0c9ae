"""The buyer's return pages (to be written: see returns/urls.py)."""

from django.http import Http404


def _todo(request, *args, **kwargs):
    raise Http404


request_list = request_new = request_detail = request_withdraw = offer_accept = _todo
offer_decline = ship_back = escalate = statement = evidence_file = _todo
