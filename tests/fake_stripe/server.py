"""A fake Stripe API on loopback for the tests: the real `stripe` package talks to it over HTTP.

It speaks Stripe's wire format for the endpoints the marketplace uses: form-encoded requests with
nested brackets (`metadata[order]=1`, `payment_method_types[0]=card`), JSON objects back, errors
as `{"error": {"type", "code", "decline_code", "message", "param"}}` with Stripe's HTTP statuses.
It keeps state, checks the secret key, honours Idempotency-Key like Stripe (same key and same
parameters: the first response replayed with `Idempotent-Replayed: true`; same key, other
parameters: 400 `idempotency_error`), records every request so tests can assert what was sent,
can drop connections to exercise retries, and can deliver signed webhooks.

Endpoints:
    POST /v1/payment_intents              GET /v1/payment_intents/{id}
    POST /v1/transfers                    POST /v1/transfers/{id}/reversals
    POST /v1/refunds
    POST /v1/accounts                     GET /v1/accounts/{id}
    POST /v1/account_links
    GET  /setup/e/{account}/{token}       the "hosted onboarding" an account link points at:
                                          completes onboarding and redirects to return_url

Test PaymentMethods (Stripe's own ids): pm_card_visa, pm_card_mastercard (succeed);
pm_card_chargeDeclined and pm_card_visa_chargeDeclined (generic decline);
pm_card_chargeDeclinedInsufficientFunds; pm_card_chargeDeclinedExpiredCard;
pm_card_authenticationRequired (requires_action).

Usage: `FakeStripe().start()`, then point the gateway at `fake.url` (settings.STRIPE_API_BASE);
the `fake_stripe` fixture in tests/fake_stripe/fixtures.py does both. Test code, not product code.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

API_VERSION = "2025-11-17.clover"

# payment method id -> (error code, decline code, message); None means the card pays.
TEST_PAYMENT_METHODS: dict[str, tuple[str, str, str] | None] = {
    "pm_card_visa": None,
    "pm_card_mastercard": None,
    "pm_card_authenticationRequired": None,
    "pm_card_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
    "pm_card_visa_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "pm_card_visa_chargeDeclinedInsufficientFunds": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "pm_card_chargeDeclinedExpiredCard": ("expired_card", "", "Your card has expired."),
}
REQUIRES_AUTHENTICATION = {"pm_card_authenticationRequired"}

ONBOARDING_REQUIREMENTS = [
    "business_type",
    "external_account",
    "individual.first_name",
    "individual.last_name",
    "tos_acceptance.date",
    "tos_acceptance.ip",
]


class StripeApiError(Exception):
    """Raised inside an endpoint to answer in Stripe's error shape."""

    def __init__(self, status: int, error_type: str, message: str, **fields: Any):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": error_type, "message": message, **fields}}


def _missing(param: str) -> StripeApiError:
    return StripeApiError(
        400,
        "invalid_request_error",
        f"Missing required param: {param}.",
        code="parameter_missing",
        param=param,
    )


def _no_such(kind: str, object_id: str, param: str | None = None) -> StripeApiError:
    return StripeApiError(
        404 if param is None else 400,
        "invalid_request_error",
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param=param,
    )


def _amount(params: dict[str, Any], name: str = "amount", *, required: bool = True) -> int | None:
    if name not in params:
        if required:
            raise _missing(name)
        return None
    try:
        value = int(params[name])
    except (TypeError, ValueError):
        raise StripeApiError(
            400, "invalid_request_error", f"Invalid integer: {params[name]}", param=name
        ) from None
    if value <= 0:
        raise StripeApiError(
            400,
            "invalid_request_error",
            "This value must be greater than or equal to 1.",
            code="parameter_invalid_integer",
            param=name,
        )
    return value


def _truthy(value: Any) -> bool:
    return str(value).lower() == "true"


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def form_decode(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding back into nested values: `a[b][c]=1` -> {"a": {"b": {"c": "1"}}},
    `l[0]=x&l[1]=y` -> {"l": ["x", "y"]}. Values stay strings, as Stripe receives them."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = re.fullmatch(r"([^\[\]]+)((?:\[[^\[\]]*\])*)", key)
        if not match:
            root[key] = value
            continue
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def lists(value: Any) -> Any:
        if isinstance(value, dict):
            value = {key: lists(item) for key, item in value.items()}
            if value and all(key.isdigit() for key in value):
                return [value[key] for key in sorted(value, key=int)]
        return value

    return lists(root)


def webhook_signature(payload: str, secret: str, timestamp: int) -> str:
    """The Stripe-Signature header for `payload`: `t=<timestamp>,v1=<HMAC-SHA256>` over
    `<timestamp>.<payload>`, keyed with the endpoint's signing secret."""
    digest = hmac.new(
        secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]  # lower-case names
    status: int = 0
    dropped: bool = False
    replayed: bool = False

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


@dataclass
class _StoredResponse:
    method: str
    path: str
    params: dict[str, Any]
    status: int
    body: dict[str, Any]


@dataclass
class _Drop:
    after_processing: bool


@dataclass
class FakeStripe:
    api_key: str = "sk_test_fake_" + "0" * 24
    webhook_secret: str = "whsec_fake_" + "1" * 24
    requests: list[RecordedRequest] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self):
        self.lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    # --- lifecycle

    def start(self) -> FakeStripe:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="fake-stripe", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start() the fake first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def reset(self) -> None:
        """Forget every object, request, event, idempotency key and planned failure."""
        with self.lock:
            self.requests = []
            self.events = []
            self.payment_intents: dict[str, dict[str, Any]] = {}
            self.charges: dict[str, dict[str, Any]] = {}
            self.transfers: dict[str, dict[str, Any]] = {}
            self.refunds: dict[str, dict[str, Any]] = {}
            self.reversals: dict[str, dict[str, Any]] = {}
            self.accounts: dict[str, dict[str, Any]] = {}
            self.account_links: dict[str, dict[str, Any]] = {}
            self._idempotency: dict[str, _StoredResponse] = {}
            self._drops: list[_Drop] = []

    # --- test controls

    def fail_next(self, count: int = 1, *, after_processing: bool = False) -> None:
        """Drop the connection of the next `count` API requests without an answer, as a network
        failure does. With `after_processing`, the request takes effect first (the answer is
        what gets lost), which is what idempotency keys exist for."""
        with self.lock:
            self._drops.extend(_Drop(after_processing) for _ in range(count))

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        """Recorded requests for `method` and `path` (a prefix ending in "/" matches below it)."""
        with self.lock:
            return [
                request
                for request in self.requests
                if request.method == method
                and (request.path == path or (path.endswith("/") and request.path.startswith(path)))
            ]

    def account_complete_onboarding(
        self, account_id: str, *, bank_last4: str = "6789"
    ) -> dict[str, Any]:
        """What a seller finishing Stripe's hosted onboarding does to an Express account; emits
        `account.updated`."""
        with self.lock:
            account = self.accounts[account_id]
            previous = {
                "charges_enabled": account["charges_enabled"],
                "payouts_enabled": account["payouts_enabled"],
                "details_submitted": account["details_submitted"],
            }
            account.update(charges_enabled=True, payouts_enabled=True, details_submitted=True)
            account["capabilities"] = dict.fromkeys(account["capabilities"], "active")
            account["requirements"].update(
                currently_due=[], eventually_due=[], past_due=[], disabled_reason=None
            )
            account["external_accounts"]["data"] = [
                {
                    "id": _new_id("ba"),
                    "object": "bank_account",
                    "account": account_id,
                    "last4": bank_last4,
                    "currency": account["default_currency"],
                    "status": "new",
                }
            ]
            account["external_accounts"]["total_count"] = 1
            self._emit("account.updated", account, account=account_id, previous=previous)
            return copy.deepcopy(account)

    def event_build(
        self,
        event_type: str,
        obj: dict[str, Any],
        *,
        account: str | None = None,
        created: int | None = None,
        previous_attributes: dict[str, Any] | None = None,
        event_id: str | None = None,
    ) -> dict[str, Any]:
        """An event as Stripe sends it to a webhook endpoint (not stored; see `events`)."""
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous_attributes is not None:
            data["previous_attributes"] = previous_attributes
        event = {
            "id": event_id or _new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()) if created is None else created,
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }
        if account:
            event["account"] = account
        return event

    def signed_payload(
        self, event: dict[str, Any], *, secret: str | None = None, timestamp: int | None = None
    ) -> tuple[str, str]:
        """(body, Stripe-Signature header) for delivering `event`."""
        payload = json.dumps(event)
        timestamp = int(time.time()) if timestamp is None else timestamp
        return payload, webhook_signature(payload, secret or self.webhook_secret, timestamp)

    def send_webhook(
        self,
        url: str,
        event: dict[str, Any],
        *,
        secret: str | None = None,
        timestamp: int | None = None,
    ) -> tuple[int, str]:
        """POST `event` to `url`, signed as Stripe signs it. Returns (status, body)."""
        payload, signature = self.signed_payload(event, secret=secret, timestamp=timestamp)
        request = urllib.request.Request(  # noqa: S310 (a URL the test gave: its live server)
            url,
            data=payload.encode(),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": signature,
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            },
        )
        # No proxies: the endpoint is on this machine.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    # --- request handling

    def handle(self, method: str, path: str, params: dict[str, Any], headers: dict[str, str]):
        """Answer one API request: (status, body, extra headers), or None to drop it."""
        record = RecordedRequest(method, path, params, headers)
        with self.lock:
            self.requests.append(record)
            drop = self._drops.pop(0) if self._drops else None
            if drop is not None and not drop.after_processing:
                record.dropped = True
                return None
            status, body, extra = self._answer(method, path, params, headers, record)
            record.status = status
            if drop is not None:
                record.dropped = True
                return None
            return status, body, extra

    def _answer(self, method, path, params, headers, record):
        if headers.get("authorization") != f"Bearer {self.api_key}":
            shown = headers.get("authorization", "").removeprefix("Bearer ")[:12]
            return (
                401,
                {
                    "error": {
                        "type": "invalid_request_error",
                        "message": f"Invalid API Key provided: {shown}***",
                    }
                },
                {},
            )
        key = headers.get("idempotency-key") if method == "POST" else None
        if key is not None and key in self._idempotency:
            stored = self._idempotency[key]
            if (stored.method, stored.path, stored.params) != (method, path, params):
                return (
                    400,
                    {
                        "error": {
                            "type": "idempotency_error",
                            "message": (
                                "Keys for idempotent requests can only be used with the same "
                                "parameters they were first used with. Try using a key other "
                                f"than '{key}' if you meant to execute a different request."
                            ),
                        }
                    },
                    {},
                )
            record.replayed = True
            return stored.status, copy.deepcopy(stored.body), {"Idempotent-Replayed": "true"}
        try:
            status, body = self._route(method, path, params, key)
        except StripeApiError as error:
            status, body = error.status, error.body
        # Stripe keeps the result of a request that ran, errors included (a decline replays as a
        # decline); a request that failed validation before running is not kept.
        if key is not None and (status < 400 or status == 402):
            self._idempotency[key] = _StoredResponse(
                method, path, params, status, copy.deepcopy(body)
            )
        return status, body, {}

    def _route(self, method, path, params, idempotency_key):
        routes = [
            ("POST", r"/v1/payment_intents", self._payment_intent_create),
            ("GET", r"/v1/payment_intents/(?P<id>[^/]+)", self._payment_intent_retrieve),
            ("POST", r"/v1/transfers", self._transfer_create),
            ("POST", r"/v1/transfers/(?P<id>[^/]+)/reversals", self._reversal_create),
            ("POST", r"/v1/refunds", self._refund_create),
            ("POST", r"/v1/accounts", self._account_create),
            ("GET", r"/v1/accounts/(?P<id>[^/]+)", self._account_retrieve),
            ("POST", r"/v1/account_links", self._account_link_create),
        ]
        for route_method, pattern, endpoint in routes:
            match = re.fullmatch(pattern, path)
            if match and route_method == method:
                return endpoint(params, **match.groupdict())
        raise StripeApiError(
            404,
            "invalid_request_error",
            f"Unrecognized request URL ({method}: {path}).",
        )

    def _emit(self, event_type, obj, *, account=None, previous=None):
        self.events.append(
            self.event_build(event_type, obj, account=account, previous_attributes=previous)
        )

    # --- payment intents and charges

    def _payment_intent_create(self, params):
        amount = _amount(params)
        currency = params.get("currency") or ""
        if not currency:
            raise _missing("currency")
        payment_method = params.get("payment_method")
        confirm = _truthy(params.get("confirm", "false"))
        if confirm and not payment_method:
            raise StripeApiError(
                400,
                "invalid_request_error",
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                code="payment_intent_unexpected_state",
            )
        if payment_method and payment_method not in TEST_PAYMENT_METHODS:
            raise _no_such("PaymentMethod", payment_method, param="payment_method")
        intent = {
            "id": _new_id("pi"),
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "currency": currency,
            "status": "requires_confirmation" if payment_method else "requires_payment_method",
            "payment_method": payment_method,
            "payment_method_types": params.get("payment_method_types") or ["card"],
            "transfer_group": params.get("transfer_group"),
            "description": params.get("description"),
            "metadata": params.get("metadata") or {},
            "latest_charge": None,
            "last_payment_error": None,
            "next_action": None,
            "capture_method": "automatic",
            "confirmation_method": "automatic",
            "created": int(time.time()),
            "livemode": False,
        }
        intent["client_secret"] = f"{intent['id']}_secret_{secrets.token_hex(8)}"
        self.payment_intents[intent["id"]] = intent
        if not confirm:
            return 200, copy.deepcopy(intent)
        if payment_method in REQUIRES_AUTHENTICATION:
            intent["status"] = "requires_action"
            intent["next_action"] = {"type": "use_stripe_sdk", "use_stripe_sdk": {}}
            return 200, copy.deepcopy(intent)
        decline = TEST_PAYMENT_METHODS[payment_method]
        charge = {
            "id": _new_id("ch"),
            "object": "charge",
            "amount": amount,
            "amount_refunded": 0,
            "currency": currency,
            "payment_intent": intent["id"],
            "payment_method": payment_method,
            "transfer_group": intent["transfer_group"],
            "status": "failed" if decline else "succeeded",
            "paid": not decline,
            "refunded": False,
            "created": int(time.time()),
        }
        self.charges[charge["id"]] = charge
        intent["latest_charge"] = charge["id"]
        if decline is None:
            intent.update(status="succeeded", amount_received=amount)
            self._emit("payment_intent.succeeded", intent)
            return 200, copy.deepcopy(intent)
        code, decline_code, message = decline
        error = {
            "type": "card_error",
            "code": code,
            "message": message,
            "charge": charge["id"],
            "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
            "payment_method": {"id": payment_method, "object": "payment_method", "type": "card"},
        }
        if decline_code:
            error["decline_code"] = decline_code
        charge.update(failure_code=code, failure_message=message)
        intent.update(status="requires_payment_method", last_payment_error=copy.deepcopy(error))
        self._emit("payment_intent.payment_failed", intent)
        raise StripeApiError(
            402,
            "card_error",
            message,
            **{key: value for key, value in error.items() if key not in {"type", "message"}},
            payment_intent=copy.deepcopy(intent),
        )

    def _payment_intent_retrieve(self, params, id):
        if id not in self.payment_intents:
            raise _no_such("payment_intent", id)
        return 200, copy.deepcopy(self.payment_intents[id])

    # --- transfers and reversals

    def _transfer_create(self, params):
        amount = _amount(params)
        currency = params.get("currency") or ""
        if not currency:
            raise _missing("currency")
        destination = params.get("destination")
        if not destination:
            raise _missing("destination")
        account = self.accounts.get(destination)
        if account is None:
            raise _no_such("destination", destination, param="destination")
        if account["capabilities"].get("transfers") != "active":
            raise StripeApiError(
                400,
                "invalid_request_error",
                "Your destination account needs to have at least one of the following "
                "capabilities enabled: transfers, crypto_transfers, legacy_payments",
                code="insufficient_capabilities_for_transfer",
                param="destination",
            )
        source = params.get("source_transaction")
        if source:
            charge = self.charges.get(source)
            if charge is None or charge["status"] != "succeeded":
                raise _no_such("charge", source, param="source_transaction")
            if charge["currency"] != currency:
                raise StripeApiError(
                    400,
                    "invalid_request_error",
                    "The currency of source_transaction's balance transaction "
                    f"({charge['currency']}) must be the same as the transfer currency "
                    f"({currency})",
                    param="currency",
                )
            transferred = sum(
                transfer["amount"]
                for transfer in self.transfers.values()
                if transfer["source_transaction"] == source
            )
            if transferred + amount > charge["amount"]:
                raise StripeApiError(
                    400,
                    "invalid_request_error",
                    "Transfers using source_transaction cannot exceed the source charge's amount.",
                    code="amount_too_large",
                    param="amount",
                )
        transfer = {
            "id": _new_id("tr"),
            "object": "transfer",
            "amount": amount,
            "amount_reversed": 0,
            "currency": currency,
            "destination": destination,
            "destination_payment": _new_id("py"),
            "source_transaction": source or None,
            "transfer_group": params.get("transfer_group"),
            "description": params.get("description"),
            "metadata": params.get("metadata") or {},
            "reversed": False,
            "created": int(time.time()),
            "livemode": False,
        }
        transfer["reversals"] = {
            "object": "list",
            "data": [],
            "has_more": False,
            "total_count": 0,
            "url": f"/v1/transfers/{transfer['id']}/reversals",
        }
        self.transfers[transfer["id"]] = transfer
        self._emit("transfer.created", transfer)
        return 200, copy.deepcopy(transfer)

    def _reversal_create(self, params, id):
        transfer = self.transfers.get(id)
        if transfer is None:
            raise _no_such("transfer", id)
        left = transfer["amount"] - transfer["amount_reversed"]
        amount = _amount(params, required=False) or left
        if amount > left:
            raise StripeApiError(
                400,
                "invalid_request_error",
                "You have attempted to reverse more than the amount of the transfer.",
                param="amount",
            )
        reversal = {
            "id": _new_id("trr"),
            "object": "transfer_reversal",
            "amount": amount,
            "currency": transfer["currency"],
            "transfer": id,
            "metadata": params.get("metadata") or {},
            "created": int(time.time()),
        }
        self.reversals[reversal["id"]] = reversal
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
        transfer["reversals"]["data"].append(copy.deepcopy(reversal))
        transfer["reversals"]["total_count"] += 1
        self._emit("transfer.reversed", transfer)
        return 200, copy.deepcopy(reversal)

    # --- refunds

    def _refund_create(self, params):
        intent_id = params.get("payment_intent")
        charge_id = params.get("charge")
        if intent_id:
            intent = self.payment_intents.get(intent_id)
            if intent is None:
                raise _no_such("payment_intent", intent_id, param="payment_intent")
            charge_id = intent["latest_charge"]
        elif not charge_id:
            raise StripeApiError(
                400,
                "invalid_request_error",
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
            )
        charge = self.charges.get(charge_id)
        if charge is None or charge["status"] != "succeeded":
            raise StripeApiError(
                400,
                "invalid_request_error",
                f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                code="charge_not_refundable",
            )
        left = charge["amount"] - charge["amount_refunded"]
        if left == 0:
            raise StripeApiError(
                400,
                "invalid_request_error",
                f"Charge {charge_id} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = _amount(params, required=False) or left
        if amount > left:
            raise StripeApiError(
                400,
                "invalid_request_error",
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                code="amount_too_large",
                param="amount",
            )
        refund = {
            "id": _new_id("re"),
            "object": "refund",
            "amount": amount,
            "currency": charge["currency"],
            "charge": charge_id,
            "payment_intent": charge["payment_intent"],
            "status": "succeeded",
            "metadata": params.get("metadata") or {},
            "created": int(time.time()),
        }
        self.refunds[refund["id"]] = refund
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self._emit("charge.refunded", charge)
        return 200, copy.deepcopy(refund)

    # --- connected accounts

    def _account_create(self, params):
        account_type = params.get("type")
        if account_type not in {"express", "standard", "custom"}:
            raise StripeApiError(
                400,
                "invalid_request_error",
                "Invalid type: must be one of custom, express, or standard",
                param="type",
            )
        requested = params.get("capabilities") or {}
        account = {
            "id": "acct_" + secrets.token_hex(8).upper(),
            "object": "account",
            "type": account_type,
            "country": params.get("country") or "US",
            "email": params.get("email"),
            "default_currency": "usd",
            "charges_enabled": False,
            "payouts_enabled": False,
            "details_submitted": False,
            "capabilities": {
                name: "inactive"
                for name, value in requested.items()
                if _truthy((value or {}).get("requested"))
            },
            "requirements": {
                "currently_due": list(ONBOARDING_REQUIREMENTS),
                "eventually_due": list(ONBOARDING_REQUIREMENTS),
                "past_due": list(ONBOARDING_REQUIREMENTS),
                "disabled_reason": "requirements.past_due",
                "pending_verification": [],
            },
            "external_accounts": {
                "object": "list",
                "data": [],
                "has_more": False,
                "total_count": 0,
                "url": "/v1/accounts/{id}/external_accounts",
            },
            "metadata": params.get("metadata") or {},
            "created": int(time.time()),
        }
        self.accounts[account["id"]] = account
        return 200, copy.deepcopy(account)

    def _account_retrieve(self, params, id):
        if id not in self.accounts:
            raise _no_such("account", id)
        return 200, copy.deepcopy(self.accounts[id])

    def _account_link_create(self, params):
        for name in ("account", "type", "refresh_url", "return_url"):
            if not params.get(name):
                raise _missing(name)
        if params["account"] not in self.accounts:
            raise _no_such("account", params["account"], param="account")
        if params["type"] not in {"account_onboarding", "account_update"}:
            raise StripeApiError(
                400, "invalid_request_error", f"Invalid type: {params['type']}", param="type"
            )
        token = secrets.token_urlsafe(12)
        created = int(time.time())
        link = {
            "object": "account_link",
            "created": created,
            "expires_at": created + 300,
            "url": f"{self.url}/setup/e/{params['account']}/{token}",
        }
        self.account_links[token] = {**params, **link}
        return 200, copy.deepcopy(link)

    def hosted_onboarding(self, path: str) -> str | None:
        """The URL to redirect to after "finishing" onboarding at an account link, or None."""
        match = re.fullmatch(r"/setup/e/(?P<account>[^/]+)/(?P<token>[^/]+)", path)
        with self.lock:
            link = match and self.account_links.get(match["token"])
            if not link or link["account"] != match["account"]:
                return None
            self.account_complete_onboarding(link["account"])
            return link["return_url"]


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeStripe
    server_version = "FakeStripe/1.0"

    def log_message(self, format, *args):
        pass  # quiet: the tests read `fake.requests` instead

    def _read_params(self) -> tuple[str, dict[str, Any]]:
        parts = urlsplit(self.path)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            body = self.rfile.read(length).decode()
            pairs += parse_qsl(body, keep_blank_values=True)
        return parts.path, form_decode(pairs)

    def _serve(self) -> None:
        path, params = self._read_params()
        if self.command == "GET" and path.startswith("/setup/e/"):
            target = self.server_fake.hosted_onboarding(path)
            self.send_response(302 if target else 404)
            if target:
                self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        answer = self.server_fake.handle(self.command, path, params, headers)
        if answer is None:
            # A network failure: the connection closes with no response at all.
            self.close_connection = True
            return
        status, body, extra = answer
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Request-Id", _new_id("req"))
        self.send_header("Stripe-Version", headers.get("stripe-version", API_VERSION))
        if "idempotency-key" in headers:
            self.send_header("Idempotency-Key", headers["idempotency-key"])
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _serve
    do_POST = _serve
    do_DELETE = _serve
