"""The Seller Center's Returns section (to be written: see returns/urls.py)."""

from django.http import Http404


def _todo(request, *args, **kwargs):
    raise Http404


request_list = request_detail = approve = reject = offer = confirm_receipt = _todo
report_problem = escalate = statement = evidence_file = _todo
