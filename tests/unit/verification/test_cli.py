"""``badgehub verify``: readable and JSON output, offline documents, exit status 0 exactly when verified."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from badgehub.verification.cli import verify_command

from .conftest import BITSTRING_URL

NOW = ["--now", "2026-06-01T00:00:00Z"]


def test_a_valid_credential_exits_zero_with_a_readable_report(examples_dir: Path) -> None:
    result = CliRunner().invoke(verify_command, [str(examples_dir / "ob3-v2-simple-eddsa-rdfc-2022.json"), *NOW])
    assert result.exit_code == 0, result.output
    # Its key is only written in its verification method's fragment: verified (exit 0, the 1EdTech reading),
    # but the first line says that nothing ties that key to the issuer.
    assert result.output.startswith("VERIFIED, BUT NOTHING CONFIRMS THAT THE ISSUER SIGNED IT\n")
    assert "Achievement: Teamwork" in result.output
    assert "[ok  ] proof" in result.output


def test_json_output_lists_every_check(examples_dir: Path) -> None:
    result = CliRunner().invoke(verify_command, [str(examples_dir / "NEG-ob3-v2-bad-proofvalue.json"), "--json", *NOW])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["verified"] is False
    assert [check["id"] for check in report["checks"]][:3] == ["parse", "context", "type"]
    for check in report["checks"]:
        assert set(check) >= {"id", "status", "code", "message"}
    proof = next(check for check in report["checks"] if check["id"] == "proof")
    assert (proof["status"], proof["code"]) == ("failed", "proof_invalid")


def test_standard_input_accepts_a_baked_png(examples_dir: Path) -> None:
    data = (examples_dir / "baked-ob3-v2-json.png").read_bytes()
    result = CliRunner().invoke(verify_command, ["-", "--json", *NOW], input=data)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["format"] == "png"


def test_document_option_resolves_a_url_from_a_local_file(examples_dir: Path) -> None:
    credential = str(examples_dir / "ob3-v2-bitstring-revoked.json")
    offline = CliRunner().invoke(verify_command, [credential, "--json", *NOW])
    assert offline.exit_code == 0  # the status list is unreachable: only a warning
    mapped = CliRunner().invoke(
        verify_command,
        [
            credential,
            "--json",
            "--document",
            f"{BITSTRING_URL}={examples_dir / 'bitstring-status-list-credential.json'}",
            *NOW,
        ],
    )
    assert mapped.exit_code == 1
    report = json.loads(mapped.output)
    assert report["revoked"] is True
    assert next(c for c in report["checks"] if c["id"] == "status")["code"] == "revoked"


def test_known_email_is_checked(examples_dir: Path) -> None:
    credential = str(examples_dir / "ob3-v2-complete-eddsa-rdfc-2022.json")
    good = CliRunner().invoke(verify_command, [credential, "--known-email", "student@1edtech.edu", *NOW])
    bad = CliRunner().invoke(verify_command, [credential, "--known-email", "nobody@example.org", *NOW])
    assert good.exit_code == 0 and bad.exit_code == 1
    assert "not issued to the given e-mail address" in bad.output


def test_now_option_moves_the_clock(examples_dir: Path) -> None:
    credential = str(examples_dir / "endorsement-v2-eddsa-rdfc-2022.json")
    result = CliRunner().invoke(verify_command, [credential, "--now", "2031-01-01T00:00:00Z"])
    assert result.exit_code == 1 and "expired" in result.output


def test_garbage_input_is_a_report_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "junk.bin"
    path.write_bytes(b"\x00\x01 not a badge")
    result = CliRunner().invoke(verify_command, [str(path), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["checks"][0]["status"] == "failed"


def test_usage_errors_exit_two(tmp_path: Path, examples_dir: Path) -> None:
    credential = str(examples_dir / "ob3-v2-simple-eddsa-rdfc-2022.json")
    runner = CliRunner()
    assert runner.invoke(verify_command, [str(tmp_path / "missing.json")]).exit_code == 2
    assert runner.invoke(verify_command, [credential, "--document", "no-equals-sign"]).exit_code == 2
    assert (
        runner.invoke(verify_command, [credential, "--document", f"https://x.example/a={tmp_path / 'nope'}"]).exit_code
        == 2
    )
    assert runner.invoke(verify_command, [credential, "--now", "tomorrow"]).exit_code == 2


def test_a_credential_whose_key_is_the_issuers_reads_verified(tmp_path: Path) -> None:
    from tests.forgeries import build_world, forgeries

    world = build_world("issuers.example")
    genuine = next(case for case in forgeries(world) if case.name == "did:key di genuine")
    path = tmp_path / "badge.json"
    path.write_text(json.dumps(genuine.data), encoding="utf-8")
    result = CliRunner().invoke(verify_command, [str(path), *NOW])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("VERIFIED\n")
    report = json.loads(CliRunner().invoke(verify_command, [str(path), "--json", *NOW]).output)
    assert (report["verified"], report["issuer_confirmed"]) == (True, True)
