"""One mechanism for status changes (docs/architecture.md, "State machines").

A model with a status field declares its machine next to it, in a few lines:

    SELLER_MACHINE = StateMachine(
        model=Seller, transitions=SELLER_TRANSITIONS, audit=SellerStatusEvent
    )

and every write of that field goes through `transition` (one row) or `transition_many` (a batch):
the move is checked against the table before anything is written (IllegalTransition), the row
changes with a compare-and-swap on its status (UPDATE ... WHERE pk = ? AND status = <from>; a row
that changed meanwhile raises StaleTransition), and the audit row, when the machine has an audit
model, is written in the same transaction. Row locks taken for other reasons and after-commit
work (emails, notifications) stay the callers' business.

tests/marketplace/test_state.py fails on a status write anywhere else.
"""

from collections.abc import Collection, Iterable, Mapping

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, router, transaction
from django.db.models import Q
from django.db.models.sql import UpdateQuery
from django.utils import timezone

from marketplace.errors import IllegalTransition


class StaleTransition(IllegalTransition):
    """The row was no longer in the expected status when the change was written: someone else
    moved it meanwhile. Nothing was written."""

    code = "stale_transition"


class StatusEvent(models.Model):
    """The audit row of one status change: who changed it, from what, to what, why, and when.

    Concrete audit models add the foreign key to their subject (any name) and may override
    `from_status`/`to_status` with their choices and lengths, and `Meta.ordering`.
    """

    from_status = models.CharField(max_length=30, blank=True)
    to_status = models.CharField(max_length=30)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]


# Every machine declared, in declaration order (the models modules declare them at import).
MACHINES: list["StateMachine"] = []


class StateMachine:
    """The allowed moves of one model's status field.

    `transitions` maps each status to the statuses it may move to; `audit` is a StatusEvent
    model with a foreign key to `model` (optional); `field` is the status field's name;
    `illegal_message` words the refusal, with `{from_label}` and `{to_label}` (lower-case labels
    from the field's choices) and `{name}` (the model's verbose name).
    """

    def __init__(
        self,
        *,
        model: type[models.Model],
        transitions: Mapping[str, Iterable[str]],
        audit: type[StatusEvent] | None = None,
        field: str = "status",
        illegal_message: str = "A {name} cannot go from {from_label} to {to_label}.",
    ):
        self.model = model
        self.field = field
        self.audit = audit
        self.illegal_message = illegal_message
        self.transitions = {str(s): frozenset(str(t) for t in to) for s, to in transitions.items()}
        self.labels = {
            str(value): str(label) for value, label in model._meta.get_field(field).choices
        }
        unknown = (set(self.transitions) | set().union(*self.transitions.values())) - set(
            self.labels
        )
        if unknown:
            raise ImproperlyConfigured(
                f"{model.__name__}.{field} has no status {', '.join(sorted(unknown))}."
            )
        self._audit_fk = None
        MACHINES.append(self)

    @property
    def audit_fk(self) -> str:
        """The name of the audit model's foreign key to `model` (found once models are loaded)."""
        if self._audit_fk is None:
            links = [
                f.name
                for f in self.audit._meta.concrete_fields
                if f.is_relation and f.related_model is self.model
            ]
            if len(links) != 1:
                raise ImproperlyConfigured(
                    f"{self.audit.__name__} needs one foreign key to {self.model.__name__}."
                )
            self._audit_fk = links[0]
        return self._audit_fk

    def __repr__(self):
        return f"<StateMachine {self.model.__name__}.{self.field}>"

    def label(self, status: str) -> str:
        return self.labels.get(status, status)

    def allows(self, from_status: str, to_status: str) -> bool:
        return to_status in self.transitions.get(from_status, frozenset())

    def check(self, from_status: str, to_status: str) -> None:
        """Raise IllegalTransition unless the table allows `from_status` -> `to_status`."""
        if not self.allows(from_status, to_status):
            raise IllegalTransition(
                self.illegal_message.format(
                    name=self.model._meta.verbose_name,
                    from_label=self.label(from_status).lower(),
                    to_label=self.label(to_status).lower(),
                )
            )


def _statuses(from_status: str | Collection[str]) -> list[str]:
    if isinstance(from_status, str):
        return [from_status]
    return list(from_status)


def _values(machine: StateMachine, to_status: str, fields: Mapping | None, now) -> dict:
    """The UPDATE's assignments: the status, the caller's fields, and the model's auto_now
    fields (what save() would have touched)."""
    values = {}
    for field in machine.model._meta.concrete_fields:
        if getattr(field, "auto_now", False):
            values[field.name] = now
    values.update(fields or {})
    values[machine.field] = to_status
    return values


def _audit_row(machine: StateMachine, *, pk, from_status, to_status, actor, message, now):
    return machine.audit(
        **{f"{machine.audit_fk}_id": pk},
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        message=message,
        created_at=now,
    )


def transition(
    machine: StateMachine,
    *,
    pk=None,
    instance: models.Model | None = None,
    to_status: str,
    from_status: str | Collection[str] | None = None,
    actor=None,
    message: str = "",
    fields: Mapping | None = None,
    where: Q | None = None,
    now=None,
):
    """Move one row (`instance`, or `pk`) to `to_status`, setting `fields` in the same UPDATE.

    `from_status` is the status expected (compare-and-swap): by default the instance's, or the
    row's as read now when only `pk` is given; several statuses are accepted when each may move
    to `to_status`. `where` adds conditions the row must still meet. Raises IllegalTransition
    when the table refuses the move, StaleTransition (an IllegalTransition) when the row is no
    longer in that status or no longer meets `where`; nothing is written either way. Writes the
    audit row (actor, message, `now`) in the same transaction.

    Updates `instance` in memory (status and the plain values of `fields`) and returns it, or
    the status moved from when only `pk` was given.
    """
    if instance is not None:
        pk = instance.pk
    if pk is None:
        raise TypeError("transition() needs pk or instance")
    now = now or timezone.now()
    manager = machine.model._default_manager
    if from_status is None:
        if instance is not None:
            from_status = getattr(instance, machine.field)
        else:
            from_status = manager.filter(pk=pk).values_list(machine.field, flat=True).first()
            if from_status is None:
                raise machine.model.DoesNotExist(f"No {machine.model._meta.verbose_name} {pk}.")
    candidates = _statuses(from_status)
    for candidate in candidates:
        machine.check(candidate, to_status)
    if len(candidates) > 1 and machine.audit is not None:
        # The audit row names the status moved from: read it, then swap on exactly that one.
        current = manager.filter(pk=pk).values_list(machine.field, flat=True).first()
        if current not in candidates:
            raise StaleTransition(_stale_message(machine))
        candidates = [current]
    values = _values(machine, to_status, fields, now)
    rows = manager.filter(pk=pk, **{f"{machine.field}__in": candidates})
    if where is not None:
        rows = rows.filter(where)
    # No savepoint: nothing is written unless the UPDATE moved the row, and the refusal is raised
    # after the block, so a caller's transaction can catch it and carry on.
    with transaction.atomic(using=router.db_for_write(machine.model), savepoint=False):
        moved = rows.update(**values)
        if moved and machine.audit is not None:
            _audit_row(
                machine,
                pk=pk,
                from_status=candidates[0],
                to_status=to_status,
                actor=actor,
                message=message,
                now=now,
            ).save(force_insert=True)
    if not moved:
        raise StaleTransition(_stale_message(machine))
    if instance is None:
        return candidates[0] if len(candidates) == 1 else None
    for name, value in values.items():
        if not hasattr(value, "resolve_expression"):
            setattr(instance, name, value)
    return instance


def _stale_message(machine: StateMachine) -> str:
    return f"This {machine.model._meta.verbose_name} changed meanwhile; reload and try again."


def transition_many(
    machine: StateMachine,
    *,
    pks: Iterable | None = None,
    where: Q | None = None,
    from_status: str | Collection[str],
    to_status: str,
    actor=None,
    message: str = "",
    fields: Mapping | None = None,
    now=None,
) -> list:
    """Move every row of `pks` (and/or matching `where`) that is still in `from_status` to
    `to_status` in one UPDATE, setting `fields`, and write their audit rows with one bulk insert.
    Rows no longer in `from_status` are left alone. Raises IllegalTransition (nothing written)
    when the table refuses the move. Returns the primary keys moved (in the order of `pks`).
    """
    if pks is None and where is None:
        raise TypeError("transition_many() needs pks or where")
    candidates = _statuses(from_status)
    if len(candidates) > 1 and machine.audit is not None:
        raise TypeError("an audited batch moves from one status (the audit rows name it)")
    for candidate in candidates:
        machine.check(candidate, to_status)
    now = now or timezone.now()
    rows = machine.model._default_manager.filter(**{f"{machine.field}__in": candidates})
    if pks is not None:
        pks = list(pks)
        if not pks:
            return []
        rows = rows.filter(pk__in=pks)
    if where is not None:
        rows = rows.filter(where)
    values = _values(machine, to_status, fields, now)
    with transaction.atomic(using=router.db_for_write(machine.model), savepoint=False):
        moved = _update_returning_pks(rows, values)
        if moved and machine.audit is not None:
            machine.audit._default_manager.bulk_create(
                _audit_row(
                    machine,
                    pk=pk,
                    from_status=candidates[0],
                    to_status=to_status,
                    actor=actor,
                    message=message,
                    now=now,
                )
                for pk in moved
            )
    if pks is not None:
        moved_set = set(moved)
        return [pk for pk in dict.fromkeys(pks) if pk in moved_set]
    return sorted(moved)


def _update_returning_pks(rows: models.QuerySet, values: dict) -> list:
    """UPDATE the rows and return the primary keys it changed: one statement with RETURNING on
    PostgreSQL and SQLite >= 3.35, else the rows locked and read first."""
    using = router.db_for_write(rows.model)
    connection = connections[using]
    if not connection.features.can_return_columns_from_insert:
        pks = list(rows.select_for_update().values_list("pk", flat=True))
        rows.model._default_manager.filter(pk__in=pks).update(**values)
        return pks
    query = rows.query.chain(UpdateQuery)
    query.clear_ordering(force=True)
    query.add_update_values(values)
    query.annotations = {}
    sql, params = query.get_compiler(using).as_sql()
    if not sql:
        return []
    pk_column = connection.ops.quote_name(rows.model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING {pk_column}", params)
        return [row[0] for row in cursor.fetchall()]
