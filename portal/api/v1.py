"""JSON API v1 for merchant systems: Bearer API keys with scopes, rate limited per key, JSON
errors, Idempotency-Key on every POST, cursor pagination, and an OpenAPI 3.1 document generated
(by spectree) from the pydantic models that validate each request and response."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from functools import wraps

from flask import Blueprint, Response, current_app, g, render_template, request
from spectree import Response as Responses
from spectree import SecurityScheme, SecuritySchemeData, SpecTree

from portal.api import schemas
from portal.extensions import client_address, csrf, limiter
from portal.models import Case, LinkAction, Order, Subscription
from portal.services import (
    actions,
    api_keys,
    auth,
    idempotency,
    links,
    policy,
    records,
    subscriptions,
)
from portal.services.errors import DomainError, NotFound, PermissionDenied
from portal.services.lookup import get_or_404
from portal.text import lazy_text as _l
from portal.web import request_id

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    default_message = _l("Send a live API key as: Authorization: Bearer <key>.")


class InsufficientScope(PermissionDenied):
    code = "insufficient_scope"


class InvalidRequest(DomainError):
    status = 422
    code = "invalid_request"
    default_message = _l("That request is not valid.")


def _refuse_invalid(req, resp, error, instance, model_adapter) -> None:
    """Spectree's validation failures answer in the API's own error shape."""
    if error is None:
        return
    problems = "; ".join(
        f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
        for problem in model_adapter.validation_errors(error)
    )
    raise InvalidRequest(problems[:500] or None)


api = SpecTree(
    "flask",
    title="Subscription portal API",
    version="1",
    description="For merchant systems: customers, subscriptions and orders, sign-in and action links.",
    # The document is served by this blueprint; this path only keeps spectree's own pages away.
    path="api/v1/openapi.json",
    mode="strict",
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
    before=_refuse_invalid,
    validation_error_status=422,
    validation_error_model=schemas.ErrorBody,
    security_schemes=[SecurityScheme(name="bearer", data=SecuritySchemeData(type="http", scheme="bearer"))],
    security={"bearer": []},
)
# 405 too: an id beyond the database range fails the route converter, and werkzeug then names the
# methods of the path's other rules.
ERRORS = {f"HTTP_{status}": schemas.ErrorBody for status in (400, 401, 403, 404, 405, 429)}


def responses(**documented) -> Responses:
    """The answers of an endpoint: its own plus the errors every endpoint may give."""
    return Responses(**ERRORS, **documented)


# --- authentication, scopes, rate limit -------------------------------------------------------


def _presented_key() -> str:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


def _rate_key() -> str:
    # Counted per key presented (its digest, never the key itself).
    return "api:" + hashlib.sha256(_presented_key().encode()).hexdigest()[:32]


def _rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def _unknown_key_limit() -> str:
    return current_app.config["API_UNKNOWN_KEY_RATE_LIMIT"]


PUBLIC_ENDPOINTS = {"api_v1.openapi", "api_v1.reference"}


limiter.limit_blueprint(bp, _rate_limit, key_func=_rate_key, exempt=PUBLIC_ENDPOINTS)


@bp.before_request
def _authenticate() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    secret = _presented_key()
    key = api_keys.authenticate(secret) if secret else None
    if key is None:
        limiter.hit("api_v1.unknown_key", _unknown_key_limit, client_address)
        raise Unauthorized()
    g.api_key = key


def requires(scope: str):
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if scope not in g.api_key.scopes:
                raise InsufficientScope(_l("This key lacks the %(scope)s scope.", scope=scope))
            return view(*args, **kwargs)

        wrapper.required_scope = scope
        return wrapper

    return decorate


def _body(model):
    """The validated JSON body (spectree skips a body that is sent as a form)."""
    body = request.context.json
    if body is None:
        raise InvalidRequest(_l("Send a JSON body (Content-Type: application/json)."))
    return body


def _actor():
    return api_keys.actor_of(g.api_key, request_id())


def idempotent(view):
    """The first answer to an Idempotency-Key is stored and given again on a retry."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        print_ = idempotency.fingerprint(request.method, request.full_path, request.get_data())
        replay = idempotency.reserve(g.api_key.id, key, print_)
        if replay is not None:
            return Response(
                replay.body, replay.status, mimetype="application/json", headers={"Idempotent-Replayed": "true"}
            )
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except DomainError as error:
            # A refusal is an answer too: the same request would be refused the same way.
            response = current_app.make_response(_error_body(error))
        except Exception:
            idempotency.release(g.api_key.id, key)
            raise
        idempotency.complete(g.api_key.id, key, response.status_code, response.get_data(as_text=True))
        return response

    return wrapper


def _error_body(error: DomainError):
    body = {"error": {"code": error.code, "message": str(error.message), "request_id": request_id()}}
    return json.dumps(body), error.status, {"Content-Type": "application/json"}


# --- the document and its reference page --------------------------------------------------------


@bp.route("/openapi.json")
def openapi():
    return current_app.json.response(api.spec)


@bp.route("/reference")
def reference():
    """The same document as a page to read, without JavaScript."""
    return render_template("api/reference.html", spec=api.spec)


# --- sign-in and action links -------------------------------------------------------------------


def _customer_for(body: schemas.PortalSessionIn):
    if body.customer_id is not None:
        return records.customer(body.customer_id)
    if body.email:
        found = auth.find_customer_by_email(body.email)
        if found is not None:
            return found
    raise NotFound()


@bp.post("/portal-sessions")
@requires("links")
@idempotent
@api.validate(
    json=schemas.PortalSessionIn,
    headers=schemas.PostHeaders,
    resp=responses(HTTP_201=schemas.PortalSessionOut, HTTP_422=schemas.ErrorBody),
    tags=["links"],
)
def create_portal_session():
    """A single-use sign-in URL for a customer (by id or email), optionally to a page."""
    body: schemas.PortalSessionIn = _body(schemas.PortalSessionIn)
    if body.customer_id is None and not body.email:
        raise InvalidRequest(_l("Give customer_id or email."))
    customer = _customer_for(body)
    link, url = links.create(_actor(), customer, LinkAction.SIGN_IN, next_path=body.return_path)
    return schemas.PortalSessionOut(url=url, customer_id=customer.id, expires_at=link.expires_at), 201


_SUBJECTS = {"order_id": Order, "subscription_id": Subscription, "case_id": Case}


@bp.post("/links")
@requires("links")
@idempotent
@api.validate(
    json=schemas.LinkIn,
    headers=schemas.PostHeaders,
    resp=responses(HTTP_201=schemas.CreatedLinkOut, HTTP_422=schemas.ErrorBody),
    tags=["links"],
)
def create_link():
    """A one-action link for a customer: skip an order, pause a subscription, update the card..."""
    body: schemas.LinkIn = _body(schemas.LinkIn)
    customer = records.customer(body.customer_id)
    subject = None
    for name, model in _SUBJECTS.items():
        if getattr(body, name) is not None:
            # Someone else's subject is refused by the link's scope check, as a missing one is.
            subject = get_or_404(model, getattr(body, name))
    link, url = links.create(
        _actor(),
        customer,
        body.action,
        subject,
        params={"cycles": body.cycles} if body.cycles else None,
        next_path=body.next_path,
        valid_for=timedelta(minutes=body.expires_in_minutes) if body.expires_in_minutes else None,
    )
    return schemas.CreatedLinkOut.model_validate({**_link_fields(link), "url": url}), 201


def _link_fields(link) -> dict:
    return schemas.LinkOut.model_validate(link).model_dump()


@bp.get("/links/<int:link_id>")
@requires("links")
@api.validate(resp=responses(HTTP_200=schemas.LinkOut), tags=["links"])
def get_link(link_id: int):
    """A link's state: used, expired (expires_at) or revoked."""
    return schemas.LinkOut.model_validate(get_or_404(links.ActionLink, link_id))


@bp.delete("/links/<int:link_id>")
@requires("links")
@api.validate(resp=responses(HTTP_200=schemas.LinkOut), tags=["links"])
def revoke_link(link_id: int):
    """Revoke one link (a used link stays as it was)."""
    link = get_or_404(links.ActionLink, link_id)
    links.revoke(_actor(), link)
    return schemas.LinkOut.model_validate(link)


@bp.delete("/customers/<int:customer_id>/links")
@requires("links")
@api.validate(resp=responses(HTTP_200=schemas.RevokedOut), tags=["links"])
def revoke_customer_links(customer_id: int):
    """Revoke every unused link of a customer."""
    return schemas.RevokedOut(revoked=links.revoke_all(_actor(), records.customer(customer_id)))


# --- records ------------------------------------------------------------------------------------


def _listing(path: str, query: type, page: type, tag: str):
    """A list endpoint that reads a page at a time: the view turns the checked query into a
    `records` page, and this answers it in the page's schema."""

    def register(view):
        def endpoint():
            found = view(request.context.query)
            return page(data=found.rows, next_cursor=found.next_cursor)

        # Named and documented as the view, without its signature (spectree would fill its
        # arguments from it).
        endpoint.__name__, endpoint.__doc__ = view.__name__, view.__doc__
        return bp.get(path)(
            requires("read")(
                api.validate(query=query, resp=responses(HTTP_200=page, HTTP_422=schemas.ErrorBody), tags=[tag])(
                    endpoint
                )
            )
        )

    return register


@_listing("/customers", schemas.CustomerQuery, schemas.CustomerPage, "customers")
def list_customers(query: schemas.CustomerQuery):
    """Customers in id order, a page at a time; `email` finds one."""
    return records.customers(query.cursor, query.limit, query.email)


@bp.get("/customers/<int:customer_id>")
@requires("read")
@api.validate(resp=responses(HTTP_200=schemas.CustomerOut), tags=["customers"])
def get_customer(customer_id: int):
    return schemas.CustomerOut.model_validate(records.customer(customer_id))


@_listing("/subscriptions", schemas.SubscriptionQuery, schemas.SubscriptionPage, "subscriptions")
def list_subscriptions(query: schemas.SubscriptionQuery):
    """Subscriptions in id order, a page at a time; `customer_id` keeps one customer's."""
    return records.subscriptions(query.cursor, query.limit, query.customer_id)


@bp.get("/subscriptions/<int:subscription_id>")
@requires("read")
@api.validate(resp=responses(HTTP_200=schemas.SubscriptionOut), tags=["subscriptions"])
def get_subscription(subscription_id: int):
    return schemas.SubscriptionOut.model_validate(records.subscription(subscription_id))


@_listing("/orders", schemas.OrderQuery, schemas.OrderPage, "orders")
def list_orders(query: schemas.OrderQuery):
    """Orders in id order, a page at a time; `subscription_id` keeps one subscription's."""
    return records.orders(query.cursor, query.limit, query.subscription_id)


# --- acting on a subscription -------------------------------------------------------------------


def _service_params(action: str, body: schemas.ActionIn) -> dict:
    """The action's parameters as the services take them; a missing one is a 422."""

    def need(*names):
        missing = [name for name in names if getattr(body, name) is None]
        if missing:
            raise InvalidRequest(_l("%(action)s needs: %(fields)s.", action=action, fields=", ".join(missing)))
        return {name: getattr(body, name) for name in names}

    if action == "pause":
        return {"until": body.until} if body.until else need("cycles")
    if action in ("skip", "unskip"):
        return need("order_id")
    if action == "swap":
        return need("item_id", "variant_id", "quantity")
    if action == "frequency":
        unit, count = policy.parse_interval(need("interval")["interval"])
        return {"unit": unit, "count": count}
    if action == "reschedule":
        return need("new_date")
    if action == "cancel":
        mode = need("mode")["mode"].value
        return {"mode": mode, "on_date": body.on_date} if mode == "date" else {"mode": mode}
    return {}


def _impact(impact) -> schemas.ImpactOut:
    return schemas.ImpactOut.model_validate(impact)


ACTION_RULE = "/subscriptions/<int:subscription_id>/actions/<any({}):action>".format(
    ", ".join(action.value for action in schemas.SubscriptionAction)
)


@bp.post(ACTION_RULE)
@requires("write")
@idempotent
@api.validate(
    query=schemas.ActionQuery,
    json=schemas.ActionIn,
    headers=schemas.PostHeaders,
    resp=responses(HTTP_200=schemas.ActionOut, HTTP_409=schemas.ErrorBody, HTTP_422=schemas.ErrorBody),
    tags=["subscriptions"],
)
def subscription_action(subscription_id: int, action: str):
    """Any self-serve action, with the portal's rules: `?preview=1` only says what would change;
    a refusal is a 422 with the refusal's stable code; a stale `version` is a 409."""
    subscription = records.subscription(subscription_id)
    body: schemas.ActionIn = _body(schemas.ActionIn)
    params = _service_params(action, body)
    if request.context.query.preview:
        impact = subscriptions.preview(_actor(), subscription, action, **params)
        return schemas.ActionOut(preview=True, impact=_impact(impact), subscription=subscription)
    if body.version is None:
        raise InvalidRequest(_l("Send the subscription's version to act."))
    result = actions.perform(_actor(), subscription, action, body.version, **params)
    charge = result.charge
    return schemas.ActionOut(
        preview=False,
        impact=_impact(result.impact),
        subscription=records.subscription(subscription_id),
        charge=None if charge is None else "paid" if charge.paid else "declined" if charge.declined else "pending",
    )
