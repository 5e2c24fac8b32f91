"""JSON endpoints: health for load balancers, and the merchant API under /api/v1."""
from __future__ import annotations

from flask import Blueprint, jsonify

from portal.extensions import csrf, limiter
from portal.services import health

bp = Blueprint("api", __name__)
csrf.exempt(bp)


@bp.route("/healthz")
@limiter.exempt
def healthz():
    result = health.check()
    return jsonify(result), 200 if result["status"] == "ok" else 503
