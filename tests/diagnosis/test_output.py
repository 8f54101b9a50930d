"""`gptbot doctor --json` (its schema and exit codes), the text form, and
docs/troubleshooting.md against the catalog it is generated from."""

from __future__ import annotations

import json
from pathlib import Path

from gptbot.cli import doctor
from gptbot.diagnosis.docs import troubleshooting_page
from gptbot.diagnosis.graph import Diagnosis, Result
from gptbot.diagnosis.render import as_json, render_text
from tests.diagnosis.servers import closed_port

ROOT = Path(__file__).resolve().parents[2]
CHECK_KEYS = {"name": str, "status": str, "detail": str, "fix": str, "cause": str,
              "needs": list, "blocked_by": str}


def run_json(monkeypatch, capsys, env, *args):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = doctor.main(["--json", *args])
    return code, json.loads(capsys.readouterr().out)


def assert_schema(document):
    assert set(document) == {"version", "status", "exit_code", "checks"}
    assert document["version"] == 1
    assert document["status"] in {"ok", "warnings", "broken"}
    assert document["exit_code"] == {"ok": 0, "broken": 1, "warnings": 2}[document["status"]]
    for check in document["checks"]:
        assert {key: type(check[key]) for key in check} == CHECK_KEYS
        assert check["status"] in {"ok", "fail", "warn", "skip"}
        assert bool(check["cause"]) == (check["status"] in {"fail", "warn"})
        assert bool(check["blocked_by"]) == (check["status"] == "skip")


def test_json_of_a_healthy_deployment(rig, monkeypatch, capsys):
    rig.healthy()
    code, document = run_json(monkeypatch, capsys, rig.env)
    assert_schema(document)
    assert (code, document["status"]) == (0, "ok")
    assert document["checks"][0]["name"] == "configuration"


def test_json_of_a_broken_one(rig, monkeypatch, capsys):
    url = f"http://127.0.0.1:{closed_port()}"
    code, document = run_json(monkeypatch, capsys, {**rig.env, "STREAM_CHAT_URL": url,
                                                    "GPTBOT_PUBLIC_URL": "https://x.example"})
    assert_schema(document)
    assert (code, document["status"]) == (1, "broken")
    by_name = {check["name"]: check for check in document["checks"]}
    assert by_name["Stream API"]["cause"] == "stream.refused"
    assert by_name["bot user"] == {"name": "bot user", "status": "skip",
                                   "detail": "skipped: needs Stream API", "fix": "",
                                   "cause": "", "needs": ["Stream credentials"],
                                   "blocked_by": "Stream API"}


def test_warnings_only_exit_2(rig, monkeypatch, capsys):
    rig.healthy()
    code, document = run_json(monkeypatch, capsys, {**rig.env, "GPTBOT_MODEL": "mine"})
    assert (code, document["status"]) == (2, "warnings")


def test_no_secret_in_any_output(rig, monkeypatch, capsys):
    secret = "w" * 36 + "abcd"
    env = {**rig.env, "STREAM_API_SECRET": secret, "GPTBOT_PUBLIC_URL": "https://x.example"}
    run_json(monkeypatch, capsys, env)
    assert doctor.main([]) == 1
    out = capsys.readouterr().out
    assert secret not in out and "sk-test-0123456789wxyz" not in out
    assert "40 characters, ending …abcd" in out


def test_text_puts_the_fix_under_its_line():
    diagnosis = Diagnosis((Result("a", "ok", "fine"), Result("bb", "fail", "broken", "mend it",
                                                            "x.y")))
    assert render_text(diagnosis) == ("ok    a   fine\n"
                                      "FAIL  bb  broken\n"
                                      "          fix: mend it")
    assert as_json(diagnosis)["exit_code"] == 1


def test_troubleshooting_page_is_what_the_code_prints():
    page = (ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
    assert page == troubleshooting_page(), \
        "regenerate: python -m gptbot.diagnosis.docs > docs/troubleshooting.md"


def test_every_cause_is_on_the_page():
    from gptbot.diagnosis.catalog import CAUSES

    page = troubleshooting_page()
    for cause in CAUSES.values():
        assert f"`{cause.id}`" in page and cause.line.replace("|", "\\|") in page


def test_readme_troubleshooting_is_what_the_code_prints():
    from gptbot.diagnosis.docs import readme_region, readme_section

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_region(readme) == readme_section(), \
        "regenerate: python -m gptbot.diagnosis.docs --readme"


def test_readme_troubleshooting_stays_short_and_names_real_fixes():
    from gptbot.diagnosis.catalog import CAUSES
    from gptbot.diagnosis.docs import COMMON, readme_section

    section = readme_section()
    assert len(section.splitlines()) <= 12
    assert "docs/troubleshooting.md" in section
    for cause in COMMON:  # each row is a catalog entry, word for word
        assert CAUSES[cause].fix.replace("|", "\\|") in section


def test_regenerating_the_readme_touches_only_its_region():
    from gptbot.diagnosis.docs import README_END, README_START, with_readme_section

    readme = f"# Title\n\nbefore\n{README_START}\nold text\n{README_END}\nafter\n"
    rewritten = with_readme_section(readme)
    assert rewritten.startswith(f"# Title\n\nbefore\n{README_START}\n`gptbot doctor`")
    assert rewritten.endswith(f"\n{README_END}\nafter\n")
    assert "old text" not in rewritten
