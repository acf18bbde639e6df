"""What the account tests share: a password, reading an account back, posting a form as a browser does."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from badgehub.accounts.models import User
from badgehub.extensions import db
from badgehub.fields import email_key
from tests.conftest import csrf_token_from

PASSWORD = "correct horse battery"


def user_row(app: Flask, address: str) -> User | None:
    """The account of ``address`` as stored now (detached), or None."""
    with app.app_context():
        found: User | None = db.session.scalar(select(User).where(User.email_key == email_key(address)))
        if found is not None:
            db.session.expunge(found)
        return found


def submit(client: FlaskClient, page: str, data: dict[str, Any], *, to: str | None = None, **kwargs: Any) -> Any:
    """Post a form the way a browser does: with the CSRF token of the page it comes from."""
    token = csrf_token_from(client.get(page, **kwargs).get_data(as_text=True))
    return client.post(to or page, data={"csrf_token": token, **data}, **kwargs)


def signed_in(client: FlaskClient) -> bool:
    return bool(client.get("/account").status_code == 200)
