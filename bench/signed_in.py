"""The portal as `wsgi.py` makes it, with one more page for the benchmark: a fixed answer to a
signed-in subscriber. It costs what every signed-in page costs before it reads or renders
anything of its own (the cookie, the session lookup, the headers): the floor under the
dashboard's figure."""

from flask import Blueprint

from portal import create_app
from portal.access import customer_required

floor = Blueprint("bench_floor", __name__)


@floor.route("/bench/signed-in")
@customer_required
def signed_in():
    return "Signed in"


app = create_app()
app.register_blueprint(floor)
