"""An employer checks a badge on a phone: upload and read the verdict, scan a QR code with the camera; and
/verify and its report pass axe-core's WCAG 2.1 A/AA rules.

axe-core comes from the npm registry (``npm ci --prefix tests/browser``, pinned in package-lock.json) and is
evaluated in the page through the DevTools protocol, so the page's CSP (script-src 'self') stays as it is.
The camera is Chromium's fake capture device playing a Y4M file that the test draws with our QR code maker.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from badgehub.verification import fetch as fetch_module
from tests.browser.conftest import CHROMIUM_ARGS, LiveServer

HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
EXAMPLES = HERE.parents[1].parent / "shared" / "ob3-examples"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def axe_source() -> str:
    if AXE.is_file():
        return AXE.read_text(encoding="utf-8")
    reason = f"axe-core is not installed at {AXE} (npm ci --prefix tests/browser)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so the accessibility checks must run", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def example() -> Path:
    # The richest example: long addresses in its notes, endorsements, evidence, alignments.
    path = EXAMPLES / "ob3-v2-complete-eddsa-rdfc-2022.json"
    if not path.is_file():
        pytest.skip(f"shared example credentials not found at {EXAMPLES}")
    return path


@pytest.fixture(autouse=True)
def no_name_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    """The live server runs in this process: its fetcher resolves no name, so it never leaves the machine."""

    def no_dns(host: str, port: int) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "no name resolution in tests")

    monkeypatch.setattr(fetch_module, "resolve_addresses", no_dns)


def axe_violations(page: Any, source: str) -> list[dict[str, Any]]:
    # axe-core is half a megabyte of script: loaded once per page, not once per check (a journey checks each
    # page at two sizes).
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(source)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_TAGS,
    )
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in result["violations"]]


@pytest.mark.browser
def test_an_uploaded_badge_gets_its_verdict_on_a_phone(page: Any, live_server: LiveServer, example: Path,
                                                       axe_source: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/verify")
    expect(page.get_by_role("heading", level=1)).to_have_text("Verify a badge")
    assert axe_violations(page, axe_source) == []
    # Nothing overflows sideways on a 390 px wide screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.get_by_label("Upload the badge file").set_input_files(str(example))
    page.get_by_role("button", name="Check this badge").click()
    page.wait_for_load_state()
    # Its key is only written in the badge (an https issuer publishing none): intact, issuer unconfirmed.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "! Signature intact, but nothing confirms that this issuer made it")
    expect(page.get_by_role("heading", name="Who it says issued it")).to_be_visible()
    expect(page.get_by_text("1EdTech University Degree Description")).to_be_visible()
    # Every step is one tap away.
    signature = page.locator("details.step", has_text="Digital signature")
    expect(signature.get_by_text("The digital signature is valid")).to_be_hidden()
    signature.locator("summary").click()
    expect(signature.get_by_text("The digital signature is valid")).to_be_visible()
    assert page.locator("details.step").count() == 11
    assert axe_violations(page, axe_source) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.browser
def test_a_refused_address_is_explained_and_passes_axe(page: Any, live_server: LiveServer, axe_source: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/verify")
    page.get_by_label("Or give the badge's web address").fill("https://169.254.169.254/latest/meta-data/")
    page.get_by_role("button", name="Check this badge").click()
    expect(page.get_by_role("alert")).to_have_text(
        "This address cannot be checked: it leads to a private or local network, which is never contacted.")
    assert axe_violations(page, axe_source) == []


# -- the QR scanner, with Chromium's fake camera


def qr_video(text: str, path: Path) -> Path:
    """A few frames of 640×480 YUV 4:2:0 (Y4M) showing a QR code of ``text`` on white."""
    from PIL import Image

    from badgehub.printing.qr import qr_image

    code = qr_image(text, scale=8)
    frame = Image.new("L", (640, 480), 255)
    frame.paste(code, ((640 - code.width) // 2, (480 - code.height) // 2))
    y, cb, cr = frame.convert("RGB").convert("YCbCr").split()
    planes = y.tobytes() + cb.resize((320, 240)).tobytes() + cr.resize((320, 240)).tobytes()
    path.write_bytes(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n" + b"".join(b"FRAME\n" + planes for _ in range(3)))
    return path


@pytest.fixture
def camera_page(browser: Any, chromium_executable: str, live_server: LiveServer, tmp_path: Path) -> Iterator[Any]:
    """``open(qr_text)``: a phone-sized page whose camera films a QR code of ``qr_text``.

    The camera is chosen at launch, so each call launches its own Chromium through the session's Playwright."""
    launched: list[Any] = []
    foreign: list[str] = []

    def only_our_server(route: Any) -> None:
        if route.request.url.startswith(live_server.url + "/"):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    def open_with(qr_text: str) -> Any:
        video = qr_video(qr_text, tmp_path / f"qr-{len(launched)}.y4m")
        camera_browser = browser.browser_type.launch(
            executable_path=chromium_executable, headless=True,
            args=[*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                  f"--use-file-for-fake-video-capture={video}"])
        launched.append(camera_browser)
        context = camera_browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844})
        context.grant_permissions(["camera"], origin=live_server.url)
        context.route("**/*", only_our_server)
        return context.new_page()

    try:
        yield open_with
    finally:
        for camera_browser in launched:
            camera_browser.close()
    assert foreign == [], f"the page asked for something outside the app: {foreign}"


@pytest.mark.browser
def test_scanning_the_qr_code_of_one_of_our_credentials_opens_its_page(camera_page: Any,
                                                                      live_server: LiveServer) -> None:
    from playwright.sync_api import expect

    target = f"{live_server.url}/c/Ab3dE6"
    page = camera_page(target)
    page.goto(f"{live_server.url}/verify")
    scan = page.get_by_role("button", name="Scan a QR code")
    expect(scan).to_be_visible()
    scan.click()
    page.wait_for_url(target, timeout=15000)


@pytest.mark.browser
def test_scanning_a_qr_code_with_a_web_address_checks_that_address(camera_page: Any,
                                                                   live_server: LiveServer) -> None:
    from playwright.sync_api import expect

    page = camera_page("https://badges.no-such-site.example/badge.json")
    page.goto(f"{live_server.url}/verify")
    page.get_by_role("button", name="Scan a QR code").click()
    # The address field is filled and the form submitted: the server answers about that address.
    expect(page.get_by_role("alert")).to_have_text(
        "No badge could be fetched from this address: this site could not be found.", timeout=15000)
    expect(page.get_by_label("Or give the badge's web address")).to_have_value(
        "https://badges.no-such-site.example/badge.json")
