"""The employer's page leads with the badge: its image, name and issuer before anything else, the criteria as
rendered Markdown (the sanitiser of /achievements/<id>), link previews, a print stylesheet."""

from __future__ import annotations

import re
import socket
from typing import Any

import pytest

from badgehub.verification import fetch as fetch_module
from tests.factories import world_ids
from tests.functional.test_credential_page import award


@pytest.fixture(autouse=True)
def no_name_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(host: str, port: int) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "no name resolution in tests")

    monkeypatch.setattr(fetch_module, "resolve_addresses", no_dns)


@pytest.fixture
def world(snapshot: Any) -> dict[str, Any]:
    return snapshot(world_ids)


def test_the_page_opens_with_the_badge_image_name_and_issuer_then_the_verdict(client, setup, world):
    public_id = award(setup, world)
    html = client.get(f"/c/{public_id}").get_data(as_text=True)
    html = html[html.index("<main"):]
    image = f'src="/achievements/{world["repair"]}/v/1/image"'
    assert image in html
    assert client.get(f"/achievements/{world['repair']}/v/1/image").status_code == 200
    # Document order: image, issuer, badge name, then the verdict. (No holder's name: our credentials only
    # carry a hash of the address, and the page shows a name only when the signed document gives one.)
    positions = [html.index(part) for part in (image, "Atelier Vélo", "Réparer une crevaison",
                                               'id="verdict-title"')]
    assert positions == sorted(positions)


def test_criteria_are_rendered_from_markdown_not_printed_raw(client, setup, world):
    html = client.get(f"/c/{award(setup, world)}").get_data(as_text=True)
    assert "<li>démonter la roue</li>" in html and "- démonter la roue" not in html


def test_link_previews_name_the_badge_and_show_its_image(client, setup, world):
    public_id = award(setup, world)
    html = client.get(f"/c/{public_id}").get_data(as_text=True)
    assert '<meta property="og:title" content="Réparer une crevaison">' in html
    assert re.search(rf'<meta property="og:image" content="http://localhost/achievements/{world["repair"]}/v/1/image">',
                     html)
    assert f'<meta property="og:url" content="http://localhost/c/{public_id}">' in html
    assert 'href="/static/css/print.css" media="print"' in html
