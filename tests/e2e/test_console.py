"""``python -m bot console`` as a person would drive it, from a script on stdin.

A campaign is created through every dialog step (one wrong answer re-asked), approved,
promoted, pledged by three sandbox supporters, fast-forwarded to its launch; stdout must
show the three posts and the launch report. Then the same in French, across a restart.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import threading
from pathlib import Path

from adapters.console.session import sandbox_followers
from bot.domain.text import t
from bot.i18n import render
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120  # seconds before a stuck console is killed (a guard, not a speed check)
SUPPORTERS = ("alice", "bob", "carol")
MESSAGE = "Join us #savethepark https://example.org/park"
REF_RE = re.compile(r"(?:New campaign|Nouvelle campagne) ([A-Z0-9]{6})")


def said(key: str, language: str = "en", **params: object) -> str:
    return render(t(key, **params), language)


def console_env(data_dir: Path) -> dict[str, str]:
    """The caller's environment without any Chorus setting, plus DATA_DIR."""
    names = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in names}
    env.update(DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8")
    return env


def start_console(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "console", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=console_env(tmp_path / "data"),
        cwd=tmp_path,  # no stray .env
    )
    watchdog = threading.Timer(TIMEOUT, process.kill)
    watchdog.daemon = True
    watchdog.start()
    return process


def run_console(tmp_path: Path, lines: list[str], *args: str) -> tuple[str, str]:
    process = start_console(tmp_path, *args)
    out, err = process.communicate("\n".join(lines) + "\n", timeout=TIMEOUT)
    assert process.returncode == 0, err
    assert "Traceback" not in err, err
    return out, err


def read_until_ref(process: subprocess.Popen[str]) -> tuple[str, str]:
    """Read stdout until the new campaign's reference appears; return it and the text."""
    assert process.stdout is not None
    seen: list[str] = []
    for line in process.stdout:
        seen.append(line)
        match = REF_RE.search(line)
        if match:
            return match.group(1), "".join(seen)
    raise AssertionError("no campaign reference in:\n" + "".join(seen))


def dialog_lines(wrong_goal: str) -> list[str]:
    return [
        "/newcampaign",
        "Save the park",
        MESSAGE,
        "1",  # Skip: no other wordings
        wrong_goal,  # refused and asked again
        "3",
        "in 2 hours",
        "1",  # Skip the story
        "1",  # Skip the picture
        "1",  # Submit
    ]


def pledge_and_launch_lines(ref: str) -> list[str]:
    lines = [f"/approve {ref}", f"/promote {ref}"]
    for name in SUPPORTERS:
        lines += [f"/as {name}", f"/support {ref}"]
    return [*lines, "/as you", "/launch", f"/status {ref}", "/quit"]


def test_a_whole_campaign_in_one_scripted_console_run(tmp_path: Path) -> None:
    process = start_console(tmp_path)
    assert process.stdin is not None
    process.stdin.write("\n".join(["/help", *dialog_lines("lots")]) + "\n")
    process.stdin.flush()
    ref, head = read_until_ref(process)
    rest, err = process.communicate("\n".join(pledge_and_launch_lines(ref)) + "\n", TIMEOUT)
    out = head + rest
    assert process.returncode == 0, err
    assert "Traceback" not in err, err

    assert said("console.help").splitlines()[0] in out
    assert said("goal.not_a_number", value="lots") in out
    assert out.count(said("dialog.ask_goal")) == 2
    assert "[1] Submit   [2] Edit   [3] Cancel" in out
    assert said("organiser.approved", title="Save the park", ref=ref) in out
    for name in SUPPORTERS:
        assert said("console.posted", handle=name, text=MESSAGE) in out
    assert out.count("📢 ") == 3
    reach = sum(sandbox_followers(name) for name in SUPPORTERS)
    assert said("blast.report_title", title="Save the park", ref=ref) in out
    assert said("blast.report_posted", count=3) in out
    assert said("blast.report_reach", reach=reach) in out
    assert said("console.status_results", posted=3, failed=0, reach=reach) in out
    assert out.rstrip().endswith(said("console.bye", data_dir=tmp_path / "data"))

    secret_file = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert len(secret_file.read_text().strip()) >= 32


def test_the_french_console_across_a_restart(tmp_path: Path) -> None:
    first, _ = run_console(tmp_path, dialog_lines("beaucoup"), "--lang", "fr")
    assert said("goal.not_a_number", "fr", value="beaucoup") in first
    assert first.count(said("dialog.ask_goal", "fr")) == 2
    match = REF_RE.search(first)
    assert match, first
    ref = match.group(1)
    secret = (tmp_path / "data" / "secret_key").read_text()

    # a second process: same data, same secret, the campaign is still there
    second, _ = run_console(tmp_path, pledge_and_launch_lines(ref), "--lang", "fr")
    assert (tmp_path / "data" / "secret_key").read_text() == secret
    assert said("organiser.approved", "fr", title="Save the park", ref=ref) in second
    for name in SUPPORTERS:
        assert said("console.posted", "fr", handle=name, text=MESSAGE) in second
    reach = sum(sandbox_followers(name) for name in SUPPORTERS)
    assert said("blast.report_posted", "fr", count=3) in second
    assert said("blast.report_reach", "fr", reach=reach) in second
    assert said("console.bye", "fr", data_dir=tmp_path / "data") in second


def test_end_of_input_closes_cleanly_and_a_bad_secret_is_one_line(tmp_path: Path) -> None:
    out, _ = run_console(tmp_path, ["/as alice", "/frobnicate"])
    assert said("console.unknown_command", command="/frobnicate") in out
    assert said("console.bye", data_dir=tmp_path / "data") in out

    (tmp_path / "data" / "secret_key").write_text("short\n")
    process = start_console(tmp_path)
    _, err = process.communicate("", TIMEOUT)
    assert process.returncode == 2
    assert err.count("\n") == 1 and err.startswith("chorus: Setting SECRET_KEY:"), err
