"""Each test runs in its own rolled-back transaction, even when the code under test commits."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, func, select

from badgehub.accounts.models import User
from badgehub.accounts.service import create_user
from badgehub.extensions import db


@pytest.mark.parametrize("attempt", [1, 2])
def test_committed_rows_do_not_leak_into_the_next_test(ctx, attempt):
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email_key == "leak@example.org")) == 0
    create_user("leak@example.org")
    db.session.commit()
    assert isinstance(db.session.get_bind(), Connection)
