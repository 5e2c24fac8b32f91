"""Who may open which view: subscribers in the portal, staff by role in the console and admin."""

from __future__ import annotations

from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user

from portal.models import StaffRole
from portal.web import request_id


def current_actor():
    """Who is acting in this request, with its request id, for the services' audit trail."""
    return current_user.actor(request_id())


def _to_login(endpoint: str):
    return redirect(url_for(endpoint, next=request.full_path.rstrip("?")))


def customer_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated or not current_user.is_customer:
            return _to_login("auth.login")
        return view(*args, **kwargs)

    return wrapper


def staff_required(role: StaffRole):
    """Signed-in staff whose role includes `role`; others signed in get 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated or not current_user.is_staff:
                return _to_login("auth.staff_login")
            if not current_user.staff.role.includes(role):
                abort(403)
            return view(*args, **kwargs)

        wrapper.required_role = role
        return wrapper

    return decorator
