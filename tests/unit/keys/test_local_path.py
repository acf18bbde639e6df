"""keys.identity.local_path: the one answer to "is this address ours?", which decides what is answered from the
database instead of fetched."""

from __future__ import annotations

import pytest

from badgehub.keys.identity import local_path

BASE = "https://badges.example.org/hub"


@pytest.mark.parametrize(("url", "path"), [
    ("https://badges.example.org/hub/issuers/atelier", "/issuers/atelier"),
    ("http://badges.example.org/hub/issuers/atelier/did.json", "/issuers/atelier/did.json"),
    ("https://BADGES.example.org/hub/status/atelier/1", "/status/atelier/1"),
])
def test_our_addresses_give_their_path_below_the_base(url: str, path: str) -> None:
    assert local_path(url, BASE) == path


@pytest.mark.parametrize("url", [
    "https://badges.example.org.evil.example/hub/issuers/atelier",  # another host that starts like ours
    "https://evil.example@badges.example.org/hub/issuers/atelier",  # user information
    "https://badges.example.org:8443/hub/issuers/atelier",  # another port
    "https://badges.example.org/hubx/issuers/atelier",  # a path that only starts like the base path
    "https://badges.example.org/hub",  # the base itself is no document
    "https://badges.example.org/other/issuers/atelier",
    "https://badges.example.org/hub/issuers/atelier?x=1",
    "https://badges.example.org/hub/issuers/atelier#key-1",
    "ftp://badges.example.org/hub/issuers/atelier",
    "https://[::1/hub/issuers/atelier",  # not parseable
    None,
    42,
])
def test_anything_else_is_not_ours(url: object) -> None:
    assert local_path(url, BASE) is None


def test_a_base_url_at_the_root_of_its_host() -> None:
    assert local_path("http://localhost:5000/issuers/a", "http://localhost:5000") == "/issuers/a"
    assert local_path("http://localhost:5001/issuers/a", "http://localhost:5000") is None
