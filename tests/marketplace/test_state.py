"""marketplace.state: the one mechanism for status changes, and a guard that nothing else writes a
status (docs/architecture.md, "State machines")."""

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q

from marketplace.errors import DomainError, IllegalTransition
from marketplace.state import MACHINES, StaleTransition, StateMachine, transition, transition_many
from orders.models import ORDER_MACHINE
from sellers.models import SELLER_MACHINE, Seller, SellerStatus, SellerStatusEvent
from tests.accounts.factories import UserFactory
from tests.sellers.factories import ApprovedSellerFactory, SellerFactory

ROOT = Path(__file__).resolve().parents[2]


# --- transition: one row -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_legal_move_writes_the_status_the_fields_and_one_audit_row():
    seller = ApprovedSellerFactory()
    staff = UserFactory()
    transition(
        SELLER_MACHINE,
        instance=seller,
        to_status=SellerStatus.SUSPENDED,
        actor=staff,
        message="Too many violations.",
        fields={"status_message": "Too many violations."},
    )
    assert seller.status == SellerStatus.SUSPENDED  # the instance follows
    stored = Seller.objects.get(pk=seller.pk)
    assert (stored.status, stored.status_message) == ("suspended", "Too many violations.")
    event = SellerStatusEvent.objects.get(seller=seller)
    assert (event.from_status, event.to_status, event.actor, event.message) == (
        "approved",
        "suspended",
        staff,
        "Too many violations.",
    )


@pytest.mark.django_db
def test_a_move_by_pk_reads_the_current_status():
    seller = ApprovedSellerFactory()
    moved_from = transition(SELLER_MACHINE, pk=seller.pk, to_status=SellerStatus.SUSPENDED)
    assert moved_from == SellerStatus.APPROVED
    assert Seller.objects.get(pk=seller.pk).status == SellerStatus.SUSPENDED


@pytest.mark.django_db
def test_an_illegal_move_raises_and_writes_nothing():
    seller = SellerFactory(status=SellerStatus.DRAFT)
    with pytest.raises(IllegalTransition, match="A draft seller cannot be moved to approved"):
        transition(
            SELLER_MACHINE,
            instance=seller,
            to_status=SellerStatus.APPROVED,
            fields={"status_message": "written?"},
        )
    stored = Seller.objects.get(pk=seller.pk)
    assert (stored.status, stored.status_message) == (SellerStatus.DRAFT, "")
    assert not SellerStatusEvent.objects.filter(seller=seller).exists()


@pytest.mark.django_db
def test_the_loser_of_a_compare_and_swap_raises_and_writes_nothing():
    seller = ApprovedSellerFactory()
    stale = Seller.objects.get(pk=seller.pk)
    transition(SELLER_MACHINE, instance=seller, to_status=SellerStatus.SUSPENDED)
    # The stale copy still says approved, and approved -> closed is legal: only the swap refuses.
    with pytest.raises(StaleTransition, match="changed meanwhile") as refused:
        transition(
            SELLER_MACHINE,
            instance=stale,
            to_status=SellerStatus.CLOSED,
            fields={"status_message": "written?"},
        )
    assert isinstance(refused.value, IllegalTransition)
    assert isinstance(refused.value, DomainError)
    stored = Seller.objects.get(pk=seller.pk)
    assert (stored.status, stored.status_message) == (SellerStatus.SUSPENDED, "")
    assert SellerStatusEvent.objects.filter(seller=seller).count() == 1
    assert stale.status == SellerStatus.APPROVED  # the loser's copy is left as it was


@pytest.mark.django_db
def test_a_row_that_no_longer_meets_where_is_not_moved():
    seller = ApprovedSellerFactory(status_message="")
    with pytest.raises(StaleTransition):
        transition(
            SELLER_MACHINE,
            pk=seller.pk,
            from_status=SellerStatus.APPROVED,
            to_status=SellerStatus.SUSPENDED,
            where=Q(status_message="something else"),
        )
    assert Seller.objects.get(pk=seller.pk).status == SellerStatus.APPROVED
    assert not SellerStatusEvent.objects.exists()


@pytest.mark.django_db
def test_several_expected_statuses_audit_the_one_the_row_was_in():
    seller = SellerFactory(status=SellerStatus.NEEDS_INFO)
    transition(
        SELLER_MACHINE,
        pk=seller.pk,
        from_status=[SellerStatus.DRAFT, SellerStatus.NEEDS_INFO],
        to_status=SellerStatus.SUBMITTED,
    )
    event = SellerStatusEvent.objects.get(seller=seller)
    assert (event.from_status, event.to_status) == ("needs_info", "submitted")


@pytest.mark.django_db
def test_a_refusal_inside_a_transaction_leaves_it_usable():
    """The refusal is raised outside the mechanism's own block, so a caller can catch it and go on
    (as checkout_mark_paid does when a webhook finds the checkout already paid)."""
    from django.db import transaction

    seller = ApprovedSellerFactory()
    stale = Seller.objects.get(pk=seller.pk)
    with transaction.atomic():
        transition(SELLER_MACHINE, instance=seller, to_status=SellerStatus.SUSPENDED)
        with pytest.raises(StaleTransition):
            transition(SELLER_MACHINE, instance=stale, to_status=SellerStatus.CLOSED)
        assert Seller.objects.filter(status=SellerStatus.SUSPENDED).count() == 1


# --- transition_many: a batch ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_batch_moves_only_the_rows_still_in_the_expected_status():
    first, second, third = ApprovedSellerFactory(), ApprovedSellerFactory(), ApprovedSellerFactory()
    transition(SELLER_MACHINE, instance=second, to_status=SellerStatus.SUSPENDED)  # meanwhile
    staff = UserFactory()
    moved = transition_many(
        SELLER_MACHINE,
        pks=[third.pk, second.pk, first.pk],
        from_status=SellerStatus.APPROVED,
        to_status=SellerStatus.SUSPENDED,
        actor=staff,
        message="Batch.",
        fields={"status_message": "Batch."},
    )
    assert moved == [third.pk, first.pk]  # in the order asked
    statuses = dict(Seller.objects.values_list("pk", "status_message"))
    assert statuses == {first.pk: "Batch.", second.pk: "", third.pk: "Batch."}
    batch_events = SellerStatusEvent.objects.filter(message="Batch.")
    assert sorted(batch_events.values_list("seller_id", flat=True)) == sorted(moved)
    assert {(e.from_status, e.to_status, e.actor) for e in batch_events} == {
        ("approved", "suspended", staff)
    }


@pytest.mark.django_db
def test_a_batch_can_select_its_rows_with_where():
    kept, moved_seller = ApprovedSellerFactory(), ApprovedSellerFactory(shop_name="Move me")
    moved = transition_many(
        SELLER_MACHINE,
        where=Q(shop_name="Move me"),
        from_status=SellerStatus.APPROVED,
        to_status=SellerStatus.SUSPENDED,
    )
    assert moved == [moved_seller.pk]
    assert Seller.objects.get(pk=kept.pk).status == SellerStatus.APPROVED


@pytest.mark.django_db
def test_an_illegal_batch_raises_and_writes_nothing():
    seller = SellerFactory(status=SellerStatus.DRAFT)
    with pytest.raises(IllegalTransition):
        transition_many(
            SELLER_MACHINE,
            pks=[seller.pk],
            from_status=SellerStatus.DRAFT,
            to_status=SellerStatus.APPROVED,
        )
    assert Seller.objects.get(pk=seller.pk).status == SellerStatus.DRAFT
    assert not SellerStatusEvent.objects.exists()


@pytest.mark.django_db
def test_an_empty_batch_moves_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert (
            transition_many(
                SELLER_MACHINE,
                pks=[],
                from_status=SellerStatus.APPROVED,
                to_status=SellerStatus.SUSPENDED,
            )
            == []
        )


def test_an_audited_batch_moves_from_one_status():
    with pytest.raises(TypeError):
        transition_many(
            ORDER_MACHINE,
            pks=[1],
            from_status=["unpaid", "on_hold"],
            to_status="cancelled",
        )


# --- declarations ------------------------------------------------------------------------------


def test_a_machine_refuses_a_status_its_field_does_not_have():
    with pytest.raises(ImproperlyConfigured, match="no status shipped"):
        StateMachine(model=Seller, transitions={SellerStatus.DRAFT: {"shipped"}})


def test_every_declared_machine_has_a_row_for_every_status():
    for machine in MACHINES:
        assert set(machine.transitions) == set(machine.labels), machine


# Models with a status that is set when the row is created and never changes, so they need no
# machine. A new status field needs either a machine or a reason here.
WRITE_ONCE = {
    ("payments", "LocalPayment"): "a charge's outcome, recorded when it is created",
    ("payments", "LocalRefund"): "always succeeded at the local gateway",
}


def test_every_model_with_a_status_field_declares_its_machine():
    machines = {(m.model, m.field) for m in MACHINES}
    missing = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        if model.__module__.split(".")[0] in APP_PACKAGES
        and (model._meta.app_label, model.__name__) not in WRITE_ONCE
        for field in model._meta.concrete_fields
        if field.name in STATUS_FIELD_NAMES and (model, field.name) not in machines
    ]
    assert not missing, f"status fields without a StateMachine: {missing}"


# --- nothing else writes a status --------------------------------------------------------------

APP_PACKAGES = ("marketplace", "policies", "sellers", "catalog", "orders", "returns", "affiliates")
# A lifecycle status is a field named status or <something>_status; the audit rows' own columns
# and a category's policy setting are not.
NOT_LIFECYCLE = {"from_status", "to_status", "policy_status"}
STATUS_FIELD_NAMES = {"status", "appeal_status"}


def _is_status_name(name: str | None) -> bool:
    return (
        bool(name) and name not in NOT_LIFECYCLE and (name == "status" or name.endswith("_status"))
    )


def _literal_strings(node) -> list[str] | None:
    """The strings of a literal list/tuple/set, or None when it is not one."""
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [e.value for e in node.elts if isinstance(e, ast.Constant)]
    return None


def _keyword(call: ast.Call, name: str):
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


class _StatusWrites(ast.NodeVisitor):
    """Finds status writes in one module: `.update(status=...)`, `.update_or_create(defaults=
    {"status": ...})`, `save(update_fields=[..."status"...])`, `bulk_update(..., ["status"])`,
    `setattr(x, "status", ...)`, and `x.status = ...` in a function that then calls `x.save(...)`
    (without an update_fields list that leaves the status out). Reads such as filter(status=...)
    and in-memory copies of a status already written are not writes."""

    def __init__(self):
        self.found: list[tuple[int, str]] = []

    def visit_Call(self, node: ast.Call):
        func = node.func
        method = func.attr if isinstance(func, ast.Attribute) else None
        if method == "update" and any(_is_status_name(kw.arg) for kw in node.keywords):
            self.found.append((node.lineno, ".update(status=...)"))
        if method == "update_or_create":
            defaults = _keyword(node, "defaults")
            if isinstance(defaults, ast.Dict) and any(
                isinstance(k, ast.Constant) and _is_status_name(k.value) for k in defaults.keys
            ):
                self.found.append((node.lineno, 'update_or_create(defaults={"status": ...})'))
        if method == "save":
            names = _literal_strings(_keyword(node, "update_fields"))
            if names and any(_is_status_name(n) for n in names):
                self.found.append((node.lineno, 'save(update_fields=["status", ...])'))
        if method == "bulk_update":
            fields = _keyword(node, "fields") or (node.args[1] if len(node.args) > 1 else None)
            names = _literal_strings(fields)
            if names and any(_is_status_name(n) for n in names):
                self.found.append((node.lineno, 'bulk_update(..., ["status"])'))
        if (
            isinstance(func, ast.Name)
            and func.id == "setattr"
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and _is_status_name(node.args[1].value)
        ):
            self.found.append((node.lineno, 'setattr(..., "status", ...)'))
        self.generic_visit(node)

    def _visit_function(self, node):
        assigned: dict[str, int] = {}  # instance name -> line of its status assignment
        saved: set[str] = set()
        for child in ast.walk(node):
            targets = []
            if isinstance(child, ast.Assign):
                targets = child.targets
            elif isinstance(child, ast.AugAssign | ast.AnnAssign):
                targets = [child.target]
            for target in targets:
                for element in target.elts if isinstance(target, ast.Tuple) else [target]:
                    if (
                        isinstance(element, ast.Attribute)
                        and _is_status_name(element.attr)
                        and isinstance(element.value, ast.Name)
                    ):
                        assigned.setdefault(element.value.id, element.lineno)
            if (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and child.func.attr == "save"
                and isinstance(child.func.value, ast.Name)
            ):
                names = _literal_strings(_keyword(child, "update_fields"))
                if names is None or any(_is_status_name(n) for n in names):
                    saved.add(child.func.value.id)
        for name, line in assigned.items():
            if name in saved:
                self.found.append((line, f"{name}.status = ... then {name}.save()"))
        self.generic_visit(node)

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function


def _sources():
    for package in APP_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if {"migrations", "tests"} & set(relative.parts):
                continue
            if relative.as_posix() == "marketplace/state.py":
                continue
            yield relative, path.read_text(encoding="utf-8")


def status_writes(source: str) -> list[tuple[int, str]]:
    finder = _StatusWrites()
    finder.visit(ast.parse(source))
    return sorted(set(finder.found))


def test_no_status_is_written_outside_marketplace_state():
    offenders = [
        f"{relative}:{line}: {what}"
        for relative, source in _sources()
        for line, what in status_writes(source)
    ]
    assert not offenders, (
        "status writes outside marketplace.state (use transition / transition_many):\n"
        + "\n".join(offenders)
    )


@pytest.mark.parametrize(
    "source",
    [
        "Order.objects.filter(id=1, status='unpaid').update(status='cancelled')",
        "Order.objects.filter(id=1).update(\n    paid_at=now,\n    status=OrderStatus.ON_HOLD,\n)",
        "IPComplaint.objects.filter(pk=1).update(appeal_status='granted')",
        "Account.objects.update_or_create(seller=s, defaults={'status': 'onboarding'})",
        "def f(x):\n    x.save(update_fields=['note', 'status'])",
        "Order.objects.bulk_update(orders, ['status'])",
        "setattr(order, 'status', 'cancelled')",
        "def f(order):\n    order.status = OrderStatus.CANCELLED\n    order.save()",
        "def f(c):\n    c.status, c.note = 'x', 'y'\n    c.save(update_fields=fields)",
    ],
)
def test_the_guard_finds_status_writes(source):
    assert status_writes(source)


@pytest.mark.parametrize(
    "source",
    [
        "Order.objects.filter(status='unpaid').exclude(status='x').count()",
        "Order.objects.create(status=OrderStatus.UNPAID)",
        "Order(status=OrderStatus.UNPAID)",
        "Order.objects.filter(status='unpaid').update(expires_at=now)",
        "JsonResponse(body, status=503)",
        "render(request, 'page.html', context, status=400)",
        "def f(o):\n    o.status = 'on_hold'  # copy of what transition_many wrote\n    return o",
        "def f(o):\n    o.status = 'x'\n    o.save(update_fields=['note'])",
        "Event.objects.create(from_status='', to_status='unpaid')",
        "Category.objects.filter(pk=1).update(policy_status='restricted')",
    ],
)
def test_the_guard_leaves_reads_creations_and_other_writes_alone(source):
    assert not status_writes(source)
