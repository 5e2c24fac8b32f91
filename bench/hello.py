"""The yardstick: a minimal Flask app served by the same gunicorn settings in the same run."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "Hello"
