"""Requests that hold under contention: a transient database error makes the request run again.

With SQLite, writers queue for one lock; with PostgreSQL, a serialization failure or a dropped connection can
end any transaction. Either is worth one more try, not a 500. A request is run again only when nothing of it
was committed yet, so a retry never repeats a write: views commit once, at their end, and send mail after.
"""

from __future__ import annotations

import contextlib
from typing import Any

from flask import Flask, abort, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from badgehub.db import reset_write_intent, run_with_retry, set_write_intent

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class BadgeHubFlask(Flask):
    """Flask, with :meth:`dispatch_request` retried on transient database errors (see the module)."""

    def dispatch_request(self) -> Any:
        if not has_request_context():
            return super().dispatch_request()
        g._committed = False

        def attempt() -> Any:
            try:
                return super(BadgeHubFlask, self).dispatch_request()
            except Exception:
                if g.get("_committed"):
                    # Part of the request is already saved: running it again could repeat it.
                    g._no_retry = True
                raise

        # A read-only request that turned out to write (a status list signed again on a page view) lost the race
        # for SQLite's lock; its next attempt takes the lock at the start and waits its turn.
        def write_first() -> None:
            set_write_intent(True)

        return run_with_retry(attempt, should_retry=lambda: not g.get("_no_retry"), before_retry=write_first)


def init_app(app: Flask) -> None:
    """Read-only requests open ordinary SQLite transactions; the others take the write lock at their start."""

    @app.before_request
    def _declare_write_intent() -> None:
        g._write_intent_token = set_write_intent(request.method not in _READ_METHODS)

    @app.before_request
    def _refuse_nul() -> None:
        # No name, id or text of ours holds a NUL, and PostgreSQL refuses one in any text (a 500 otherwise).
        if "\x00" in request.path:
            abort(404)
        # Only a plain form is read here: touching the body of any other request (JSON, uploads) would open its
        # stream with the default size limit before the view sets its own (the API's is smaller).
        if any("\x00" in value for value in request.args.values()) or (
                request.method not in _READ_METHODS and request.mimetype == "application/x-www-form-urlencoded"
                and any("\x00" in value for value in request.form.values())):
            abort(400)

    @app.teardown_request
    def _forget_write_intent(_error: BaseException | None) -> None:
        token = g.pop("_write_intent_token", None)
        if token is not None:
            # ValueError: torn down in another context than it was set in; nothing of it leaks past the request.
            with contextlib.suppress(ValueError):
                reset_write_intent(token)


@event.listens_for(Session, "after_commit")
def _note_commit(session: Session) -> None:
    if has_request_context():
        g._committed = True
