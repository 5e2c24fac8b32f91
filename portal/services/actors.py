"""Who is acting. Every service call that changes state is given one."""

from __future__ import annotations

from dataclasses import dataclass

from portal.models import ActorType, Customer, StaffUser


@dataclass(frozen=True)
class Actor:
    type: ActorType
    id: int | None = None
    label: str | None = None
    request_id: str | None = None

    @classmethod
    def for_customer(cls, customer: Customer, request_id: str | None = None) -> Actor:
        return cls(ActorType.CUSTOMER, customer.id, customer.email, request_id)

    @classmethod
    def for_staff(cls, staff: StaffUser, request_id: str | None = None) -> Actor:
        return cls(ActorType.STAFF, staff.id, staff.email, request_id)

    @classmethod
    def system(cls, label: str, request_id: str | None = None) -> Actor:
        return cls(ActorType.SYSTEM, None, label, request_id)
