"""`flask` commands: demo data, sign-in URLs, and the worker that runs scheduled jobs."""

from __future__ import annotations

import json
import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from portal.extensions import db
from portal.jobs import JOBS
from portal.services import api_keys, auth, bulk_links, demo, demo_scale, metrics, payments
from portal.services.actors import Actor
from portal.services.errors import DomainError


def register(app: Flask) -> None:
    @app.cli.command("demo-data")
    @click.option("--scale", type=click.IntRange(min=0), default=0, help="Also bulk-load this many customers.")
    def demo_data(scale: int) -> None:
        """Load the demo shop (idempotent), and with --scale N a merchant's size of customers with
        subscriptions, orders, payments, audit events and cases. Refused in production."""
        password = current_app.config["DEMO_PASSWORD"]
        if not password:
            raise click.ClickException("Demo data is for development only.")
        try:
            emails = demo.load(password)
        except payments.PaymentProblem as error:
            where = "Stripe" if current_app.config["STRIPE_SECRET_KEY"] else current_app.config["LOCALSTRIPE_URL"]
            raise click.ClickException(
                f"The demo cards could not be made at the payment provider ({where}): {error.__cause__}"
            ) from error
        click.echo(f"Demo data ready: {len(emails)} accounts.")
        if scale:
            started = time.monotonic()
            with click.progressbar(length=scale, label=f"Loading {scale} customers") as bar:

                def progress(chunks):
                    for start in chunks:
                        yield start
                        bar.update(min(demo_scale.CHUNK, scale - start))

                demo_scale.load(scale, progress)
            click.echo(f"Loaded {scale} customers in {time.monotonic() - started:.0f} s.")

    @app.cli.command("portal-session")
    @click.argument("email")
    @click.option("--next", "next_path", default=None, help="Path to open after signing in.")
    def portal_session(email: str, next_path: str | None) -> None:
        """Print a single-use sign-in URL for the subscriber with EMAIL."""
        customer = auth.find_customer_by_email(email)
        if customer is None:
            raise click.ClickException(f"No customer with email {email}.")
        click.echo(auth.create_portal_session_url(customer, Actor.system("cli"), next_path))

    keys = AppGroup("api-keys", help="Keys for merchant systems calling the JSON API.")
    app.cli.add_command(keys)

    @keys.command("create")
    @click.argument("name")
    @click.option("--scopes", default="read", show_default=True, help="Comma-separated: read, write, links.")
    def api_keys_create(name: str, scopes: str) -> None:
        """Make a key; it is printed once, alone on the last line, and only its digest is kept."""
        try:
            key, secret = api_keys.create(Actor.system("cli"), name, api_keys.parse_scopes(scopes))
        except api_keys.InvalidApiKey as error:
            raise click.ClickException(str(error.message)) from error
        click.echo(f"API key {key.id} ({key.name}) with scopes {', '.join(key.scopes)}. It is shown only now:")
        click.echo(secret)

    @keys.command("revoke")
    @click.argument("key_id", type=int)
    def api_keys_revoke(key_id: int) -> None:
        """Stop a key from working."""
        try:
            key = api_keys.revoke(Actor.system("cli"), key_id)
        except DomainError as error:
            raise click.ClickException(f"No API key {key_id}.") from error
        click.echo(f"Revoked API key {key.id} ({key.name}).")

    link_commands = AppGroup("links", help="One-action links for emails and campaigns.")
    app.cli.add_command(link_commands)

    @link_commands.command("bulk")
    @click.argument("source", type=click.File("r", encoding="utf-8-sig"))
    @click.argument("target", type=click.File("w", encoding="utf-8"))
    @click.option("--action", type=click.Choice(bulk_links.BULK_ACTIONS), required=True)
    @click.option("--next", "next_path", default=None, help="For sign_in: the page the links open.")
    def links_bulk(source, target, action: str, next_path: str | None) -> None:
        """Read emails or customer ids from SOURCE (CSV) and write one link per row to TARGET."""
        identifiers = list(bulk_links.read_identifiers(source))
        with click.progressbar(length=len(identifiers), label=f"Making {len(identifiers)} {action} links") as bar:
            try:
                rows = bulk_links.make_links(
                    Actor.system("cli bulk"), identifiers, action, next_path=next_path, progress=bar.update
                )
                count = bulk_links.write_rows(target, rows)
            except DomainError as error:
                raise click.ClickException(str(error.message)) from error
        click.echo(f"Wrote {count} rows to {target.name}.")

    @app.cli.command("metrics")
    @click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day, YYYY-MM-DD.")
    @click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last day, YYYY-MM-DD.")
    @click.option("--json", "as_json", is_flag=True, help="One line of JSON (else indented).")
    def metrics_command(start, end, as_json: bool) -> None:
        """Print the service-experience figures of a date range (docs/METRICS.md defines them)."""
        if end.date() < start.date():
            raise click.BadParameter("--to is before --from")
        figures = metrics.all_figures(metrics.Range(start.date(), end.date()))
        click.echo(json.dumps(figures, indent=None if as_json else 2, sort_keys=True))

    jobs = AppGroup("jobs", help="Scheduled jobs, one at a time.")
    app.cli.add_command(jobs)

    @jobs.command("list")
    def jobs_list() -> None:
        """Name every job the worker runs."""
        for name in JOBS:
            click.echo(name)

    @jobs.command("run")
    @click.argument("name", type=click.Choice(sorted(JOBS)))
    def jobs_run(name: str) -> None:
        """Run one job once and say how many things it did."""
        click.echo(f"{name}: {JOBS[name]()}")

    renewals = AppGroup("renewals", help="Charging due orders.")
    app.cli.add_command(renewals)

    @renewals.command("run")
    def renewals_run() -> None:
        """Charge every due order and retry once, then stop (the worker does this in a loop)."""
        click.echo(f"renewals: {JOBS['renewals']()}")

    @app.cli.command("worker")
    @click.option("--interval", default=2.0, help="Seconds between rounds.")
    @click.option("--once", is_flag=True, help="Run one round and exit.")
    def worker(interval: float, once: bool) -> None:
        """Run every job in a loop. Several workers may run side by side."""
        while True:
            for name, job in JOBS.items():
                try:
                    job()
                except Exception:  # one failing job must not stop the others or the loop
                    current_app.logger.exception("job %s failed", name)
                    db.session.remove()
            if once:
                return
            time.sleep(interval)
