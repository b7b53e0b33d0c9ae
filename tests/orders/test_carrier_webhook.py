"""POST /webhooks/carriers/<code>/: signed tracking events from carriers that push them. A good
signature records the events once; a bad, stale or missing one, a malformed body, an unknown
carrier or tracking number is refused with a clear answer and records nothing; never a 500."""

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders.carriers.webhook import SIGNATURE_HEADER, signature_for
from orders.models import OrderStatus, Shipment, ShipmentStatus, TrackingEvent
from tests.orders.tracking_helpers import shipped_order

pytestmark = pytest.mark.django_db

SECRET = "carrier-webhook-test-secret"
NUMBER = "1Z999AA10123456784"
URL = "/webhooks/carriers/ups/"


@pytest.fixture(autouse=True)
def secret(settings):
    settings.CARRIER_WEBHOOK_SECRET = SECRET


@pytest.fixture
def ups_order():
    return shipped_order(carrier="ups", tracking_numbers=[NUMBER])


def body_of(events: list[dict], tracking_number: str = NUMBER) -> bytes:
    return json.dumps({"tracking_number": tracking_number, "events": events}).encode()


def event(event_id: str, kind: str, occurred_at: str = "2026-05-01T10:00:00Z", **more) -> dict:
    return {"id": event_id, "kind": kind, "occurred_at": occurred_at, **more}


def post(client, body: bytes, *, timestamp: int | None = None, secret: str = SECRET, url=URL):
    timestamp = int(time.time()) if timestamp is None else timestamp
    header = f"t={timestamp},v1={signature_for(secret=secret, timestamp=timestamp, body=body)}"
    return client.post(
        url, data=body, content_type="application/json", headers={SIGNATURE_HEADER: header}
    )


def test_signed_events_are_recorded_and_move_the_parcel_and_the_order(client, ups_order):
    body = body_of(
        [
            event("e1", "collected", "2026-05-01T10:00:00Z", location="Louisville, KY"),
            event("e2", "in_transit", "2026-05-01T14:00:00+02:00", description="Departed"),
        ]
    )
    response = post(client, body)
    assert response.status_code == 200
    assert response.json() == {"received": 2, "recorded": 2}
    shipment = Shipment.objects.get(tracking_number=NUMBER)
    assert shipment.status == ShipmentStatus.IN_TRANSIT
    ups_order.refresh_from_db()
    assert ups_order.status == OrderStatus.IN_TRANSIT
    assert TrackingEvent.objects.get(external_id="e1").location == "Louisville, KY"


def test_a_replayed_request_records_nothing_more(client, ups_order):
    body = body_of([event("e1", "collected")])
    timestamp = int(time.time())
    assert post(client, body, timestamp=timestamp).json() == {"received": 1, "recorded": 1}
    again = post(client, body, timestamp=timestamp)
    assert again.status_code == 200
    assert again.json() == {"received": 1, "recorded": 0}
    assert TrackingEvent.objects.count() == 1


def test_a_tracking_number_is_matched_as_sellers_type_it(client, ups_order):
    body = body_of([event("e1", "delivered")], tracking_number=" 1z999aa1 0123456784 ")
    assert post(client, body).status_code == 200
    ups_order.refresh_from_db()
    assert ups_order.status == OrderStatus.DELIVERED


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "t=abc,v1=00",
        "v1=00",
        "t=123",
        f"t={int(time.time())},v1={'0' * 64}",
        "t=99999999999999999999999,v1=00",
        "t=１２３,v1=00",
    ],
)
def test_a_missing_or_wrong_signature_is_refused(client, ups_order, header):
    body = body_of([event("e1", "collected")])
    headers = {} if header is None else {SIGNATURE_HEADER: header}
    response = client.post(URL, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 400
    assert "error" in response.json()
    assert not TrackingEvent.objects.exists()


def test_a_body_signed_with_another_secret_or_altered_is_refused(client, ups_order):
    body = body_of([event("e1", "collected")])
    assert post(client, body, secret="not-the-secret").status_code == 400
    timestamp = int(time.time())
    header = f"t={timestamp},v1={signature_for(secret=SECRET, timestamp=timestamp, body=body)}"
    altered = body.replace(b"collected", b"delivered")
    response = client.post(
        URL, data=altered, content_type="application/json", headers={SIGNATURE_HEADER: header}
    )
    assert response.status_code == 400
    assert not TrackingEvent.objects.exists()


@pytest.mark.parametrize("age", [301, -301, 86400])
def test_a_stale_or_future_signature_is_refused(client, ups_order, age):
    body = body_of([event("e1", "collected")])
    response = post(client, body, timestamp=int(time.time()) - age)
    assert response.status_code == 400
    assert "too old" in response.json()["error"]
    assert not TrackingEvent.objects.exists()


def test_without_a_configured_secret_everything_is_refused(client, ups_order, settings):
    settings.CARRIER_WEBHOOK_SECRET = ""
    response = post(client, body_of([event("e1", "collected")]), secret="")
    assert response.status_code == 400
    assert not TrackingEvent.objects.exists()


def test_an_unknown_tracking_number_is_404(client, ups_order):
    response = post(
        client, body_of([event("e1", "collected")], tracking_number="1Z0000000000000000")
    )
    assert response.status_code == 404
    assert not TrackingEvent.objects.exists()


def test_a_carrier_that_does_not_push_or_does_not_exist_is_404(client):
    body = body_of([event("e1", "collected")])
    assert post(client, body, url="/webhooks/carriers/demo/").status_code == 404
    assert post(client, body, url="/webhooks/carriers/nobody/").status_code == 404


def test_only_post_is_allowed(client):
    assert client.get(URL).status_code == 405


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'{"tracking_number": "' + NUMBER.encode() + b'"}',
        body_of([]),
        body_of([event("e1", "teleported")]),
        body_of([event("e1", "collected", "yesterday")]),
        body_of([event("e1", "collected", "2026-05-01T10:00:00")]),  # no time zone
        body_of([event("e1", "delivered", "2999-01-01T10:00:00Z")]),  # pins the parcel
        body_of([event("e1", "delivered", "1999-12-31T10:00:00Z")]),
        body_of([event("", "collected")]),
        body_of([event("x" * 101, "collected")]),
        body_of([event("e1", "collected", description="d" * 256)]),
        body_of([event("e1", "collected", location=123)]),
        body_of([event("e\u0000", "collected")]),
        b'{"tracking_number": "' + NUMBER.encode() + b'", "events": [{"id": "\\ud800", '
        b'"kind": "collected", "occurred_at": "2026-05-01T10:00:00Z"}]}',
        body_of([event(f"e{i}", "collected") for i in range(101)]),
        b"[" * 100000 + b"]" * 100000,
        b"[" * 30000 + b"]" * 30000,
    ],
)
def test_a_malformed_body_is_400_and_records_nothing(client, ups_order, payload):
    response = post(client, payload)
    assert response.status_code in (400, 413)
    assert "error" in response.json()
    assert not TrackingEvent.objects.exists()
    assert Shipment.objects.get(tracking_number=NUMBER).status == ShipmentStatus.LABEL_CREATED


text = st.text(max_size=12) | st.sampled_from(["", "\x00", "☃", "\ud800"])
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3),
    max_leaves=8,
)
events = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True), values),
        "kind": st.one_of(st.sampled_from(ShipmentStatus.values), values),
        "occurred_at": st.one_of(
            st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()), values
        ),
        "description": st.one_of(text, values),
        "location": st.one_of(text, values),
    },
)
bodies = st.fixed_dictionaries(
    {},
    optional={
        "tracking_number": st.one_of(st.just(NUMBER), values),
        "events": st.one_of(st.lists(events, max_size=4), values),
    },
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payload=bodies)
def test_whatever_is_signed_and_posted_the_answer_is_never_a_server_error(
    client, ups_order, payload
):
    body = json.dumps(payload, allow_nan=True).encode("utf-8", "surrogatepass")
    response = post(client, body)
    assert response.status_code in (200, 400, 404, 413)
    if response.status_code != 200:
        assert "error" in response.json()
