"""Staff accounts and roles, managed by admins."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import StaffRole, StaffUser
from portal.services import audit, auth, contact
from portal.services.actors import Actor
from portal.services.errors import DomainError, InvalidCredentials
from portal.services.lookup import get_or_404
from portal.services.passwords import hash_password, verify_password
from portal.services.uow import transactional
from portal.text import lazy_text as _l


class StaffEmailTaken(DomainError):
    status = 409
    code = "staff_email_taken"
    default_message = _l("A staff member with that email already exists.")


class LastAdmin(DomainError):
    status = 409
    code = "last_admin"
    default_message = _l("The last active admin cannot lose the admin role.")


def list_staff() -> list[StaffUser]:
    return list(db.session.scalars(select(StaffUser).order_by(StaffUser.name)))


def get_staff(staff_id: int) -> StaffUser:
    return get_or_404(StaffUser, staff_id)


@transactional
def create_staff(actor: Actor, *, email: str, name: str, role: StaffRole, password: str) -> StaffUser:
    email = contact.normalize_email(email)
    if db.session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
        raise StaffEmailTaken()
    staff = StaffUser(email=email, name=name.strip(), role=role, password_hash=hash_password(password))
    db.session.add(staff)
    db.session.flush()
    audit.record(
        actor, "staff.created", subject_type="staff", subject_id=staff.id, after={"email": email, "role": role.value}
    )
    return staff


def _active_admin_count() -> int:
    return len(
        db.session.scalars(
            select(StaffUser.id).where(StaffUser.role == StaffRole.ADMIN, StaffUser.active.is_(True))
        ).all()
    )


@transactional
def change_role(actor: Actor, staff: StaffUser, role: StaffRole) -> None:
    """A new role takes effect at once: the member's sessions end and they sign in again."""
    if staff.role is role:
        return
    if staff.role is StaffRole.ADMIN and _active_admin_count() <= 1:
        raise LastAdmin()
    before = {"role": staff.role.value}
    staff.role = role
    auth.end_sessions(staff_id=staff.id)
    audit.record(
        actor,
        "staff.role_changed",
        subject_type="staff",
        subject_id=staff.id,
        before=before,
        after={"role": role.value},
    )


@transactional
def change_password(actor: Actor, staff: StaffUser, password: str, keep_session_token: str | None = None) -> None:
    """Other browsers signed in as this member are signed out; the one changing it stays."""
    staff.password_hash = hash_password(password)
    auth.end_sessions(staff_id=staff.id, keep_token=keep_session_token)
    audit.record(actor, "staff.password_changed", subject_type="staff", subject_id=staff.id)


def change_own_password(
    staff: StaffUser, current_password: str, new_password: str, session_token: str, request_id: str | None = None
) -> None:
    actor = Actor.for_staff(staff, request_id)
    if not verify_password(staff.password_hash, current_password):
        audit.record_failure(
            actor, "staff.password_changed", InvalidCredentials.code, subject_type="staff", subject_id=staff.id
        )
        raise InvalidCredentials(_l("Your current password is not right."))
    change_password(actor, staff, new_password, keep_session_token=session_token)
