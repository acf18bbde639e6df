"""Imported once by the crash children's server (``tests/children.py``) before it forks them.

Building an app imports what every child's ``create_app`` would import (about 580 modules, 0.7 s of CPU after
``import badgehub``); the app itself is thrown away, and nothing of it (no connection, no thread) is started.
"""

from __future__ import annotations

import tempfile

from badgehub import create_app

with tempfile.TemporaryDirectory(prefix="badgehub-preload-") as _instance:
    create_app({"TESTING": True, "SECRET_KEY": "preload", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                "INSTANCE_PATH": _instance})
