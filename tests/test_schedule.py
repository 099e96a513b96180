"""``schedule``: crontab lines read as cron reads them, and a real BlockingScheduler stopped by signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from replay import ReplayServer

from crawler.errors import UsageError
from crawler.schedule import cron_day_of_week, cron_trigger, cron_weekdays

UTC = UTC
# Wednesday 1 January 2025, midnight UTC.
WEDNESDAY = datetime(2025, 1, 1, tzinfo=UTC)
# Generous: these are waits for something to happen, never assertions on speed.
PATIENCE = 60.0


# --- the day-of-week field


@pytest.mark.parametrize(
    ("field", "names"),
    [
        ("0", "sun"),
        ("7", "sun"),
        ("1", "mon"),
        ("6", "sat"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("0,6", "sat,sun"),
        ("5-7", "fri,sat,sun"),
        ("*/2", "tue,thu,sat,sun"),
        ("1-5/2", "mon,wed,fri"),
        ("1/2", "mon,wed,fri,sun"),
        ("sun", "sun"),
        ("MON-fri", "mon,tue,wed,thu,fri"),
        ("sat,0", "sat,sun"),
        ("*", "*"),
        ("0-7", "*"),
        ("0-6", "*"),
    ],
)
def test_cron_weekday_numbers_become_names(field: str, names: str) -> None:
    assert cron_day_of_week(field) == names


@pytest.mark.parametrize("field", ["8", "5-1", "*/0", "funday", "", "1,,2", "*/x"])
def test_bad_weekday_fields_are_usage_errors(field: str) -> None:
    with pytest.raises(UsageError):
        cron_day_of_week(field)


def test_sunday_is_sunday_unlike_apschedulers_from_crontab() -> None:
    ours = cron_trigger("17 8 * * 0", timezone="UTC").get_next_fire_time(None, WEDNESDAY)
    assert ours == datetime(2025, 1, 5, 8, 17, tzinfo=UTC)
    assert ours is not None and ours.strftime("%A") == "Sunday"
    # APScheduler 3.x's own reading of the same line is Monday: the reason for the translation.
    theirs = CronTrigger.from_crontab("17 8 * * 0", timezone="UTC").get_next_fire_time(None, WEDNESDAY)
    assert theirs is not None and theirs.strftime("%A") == "Monday"


@pytest.mark.parametrize("field", ["0", "7", "1-5", "0,6", "*/2", "5-7", "sun,wed", "1/3", "2-4,6"])
def test_fire_times_fall_on_the_days_cron_would_run(field: str) -> None:
    trigger = cron_trigger(f"30 6 * * {field}", timezone="UTC")
    fired: list[datetime] = []
    previous = None
    now = WEDNESDAY
    for _ in range(21):
        fire = trigger.get_next_fire_time(previous, now)
        assert fire is not None
        fired.append(fire)
        previous, now = fire, fire + timedelta(seconds=1)
    # Python numbers Monday 0; crontab numbers Sunday 0.
    cron_days = {(f.weekday() + 1) % 7 for f in fired}
    assert cron_days == cron_weekdays(field)
    assert all((f.hour, f.minute) == (6, 30) for f in fired)


def test_both_day_fields_restricted_means_either_as_in_cron() -> None:
    # "noon on the 1st of the month and on every Monday"
    trigger = cron_trigger("0 12 1 * 1", timezone="UTC")
    assert trigger.get_next_fire_time(None, datetime(2025, 1, 1, 12, 0, 1, tzinfo=UTC)) == datetime(
        2025, 1, 6, 12, 0, tzinfo=UTC
    )
    assert trigger.get_next_fire_time(None, datetime(2025, 1, 27, 13, 0, tzinfo=UTC)) == datetime(
        2025, 2, 1, 12, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("line", "after", "expected"),
    [
        ("*/15 * * * *", datetime(2025, 1, 1, 10, 1, tzinfo=UTC), datetime(2025, 1, 1, 10, 15, tzinfo=UTC)),
        ("@daily", datetime(2025, 1, 1, 10, 1, tzinfo=UTC), datetime(2025, 1, 2, 0, 0, tzinfo=UTC)),
        ("@weekly", WEDNESDAY, datetime(2025, 1, 5, 0, 0, tzinfo=UTC)),
        ("17 6 1 jan *", WEDNESDAY, datetime(2025, 1, 1, 6, 17, tzinfo=UTC)),
        ("5 4 * * sun", WEDNESDAY, datetime(2025, 1, 5, 4, 5, tzinfo=UTC)),
    ],
)
def test_other_fields_keep_their_crontab_meaning(line: str, after: datetime, expected: datetime) -> None:
    assert cron_trigger(line, timezone="UTC").get_next_fire_time(None, after) == expected


def test_the_time_zone_is_honoured() -> None:
    fire = cron_trigger("17 8 * * *", timezone="Europe/Paris").get_next_fire_time(None, WEDNESDAY)
    assert fire is not None and fire.astimezone(UTC) == datetime(2025, 1, 1, 7, 17, tzinfo=UTC)


def test_jitter_delays_but_never_advances() -> None:
    trigger = cron_trigger("17 8 * * *", timezone="UTC", jitter=600)
    for _ in range(20):
        fire = trigger.get_next_fire_time(None, WEDNESDAY)
        assert fire is not None
        assert datetime(2025, 1, 1, 8, 17, tzinfo=UTC) <= fire <= datetime(2025, 1, 1, 8, 27, tzinfo=UTC)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("17 8 * *", "needs 5 fields"),
        ("0 17 8 * * *", "needs 5 fields"),
        ("61 * * * *", "bad schedule"),
        ("0 25 * * *", "bad schedule"),
        ("@reboot", "unknown schedule"),
    ],
)
def test_bad_lines_are_usage_errors(line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        cron_trigger(line)


def test_an_unknown_time_zone_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown time zone 'Mars/Olympus'"):
        cron_trigger("17 8 * * *", timezone="Mars/Olympus")


# --- a real scheduler in a process of its own

SERVER_SCRIPT = """
import logging, sys, time
from pathlib import Path
from crawler.errors import PublishError
from crawler.schedule import serve

handler = logging.StreamHandler(sys.stderr)
handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
logging.getLogger("crawler").addHandler(handler)
logging.getLogger("crawler").setLevel(logging.INFO)

state, mode = Path(sys.argv[1]), sys.argv[2]

def job():
    runs = len(list(state.glob("started-*")))
    (state / f"started-{runs}").write_text("")
    if mode == "fail":
        raise PublishError("the remote refused the push")
    if mode == "crash":
        raise RuntimeError("a bug")
    while mode == "wait" and not (state / "release").exists():
        time.sleep(0.02)
    (state / f"finished-{runs}").write_text("")

sys.exit(serve(job, cron="17 8 * * *", timezone="UTC", run_now=mode != "idle"))
"""


class Process:
    """A child process whose stderr is collected line by line as it comes."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(command, cwd=cwd, env=env, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for_line(self, text: str) -> str:
        deadline = time.monotonic() + PATIENCE
        with self._changed:
            while True:
                for line in self.lines:
                    if text in line:
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"no line with {text!r}; stderr so far: {self.lines}")
                self._changed.wait(min(left, 0.5))

    def stop(self, signum: int = signal.SIGTERM) -> None:
        self.proc.send_signal(signum)

    def exit_code(self) -> int:
        code = self.proc.wait(timeout=PATIENCE)
        self._reader.join(timeout=PATIENCE)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def wait_for_file(path: Path) -> None:
    deadline = time.monotonic() + PATIENCE
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[object]:
    script = tmp_path / "serve.py"
    script.write_text(SERVER_SCRIPT)
    started: list[Process] = []

    def start(mode: str) -> Process:
        state = tmp_path / "state"
        state.mkdir(exist_ok=True)
        process = Process([sys.executable, str(script), str(state), mode], cwd=tmp_path)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


def test_sigterm_while_idle_exits_0_at_once(scheduler, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    process = scheduler("idle")
    line = process.wait_for_line("next run at")
    assert line.endswith("T08:17:00+00:00")
    process.stop()
    assert process.exit_code() == 0
    assert "INFO: SIGTERM received; stopping after the running job finishes" in process.lines
    assert process.lines[-1] == "INFO: scheduler stopped"
    assert not list((tmp_path / "state").glob("started-*"))
    assert not any("Traceback" in line for line in process.lines)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_a_job_lets_the_job_finish_first(scheduler, tmp_path: Path, signum: int) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "state"
    process = scheduler("wait")
    wait_for_file(state / "started-0")
    process.stop(signum)
    name = signal.Signals(signum).name
    process.wait_for_line(f"{name} received; stopping after the running job finishes")
    # The job is held until we release it: the scheduler must still be waiting for it.
    assert process.proc.poll() is None
    assert not (state / "finished-0").exists()
    process.stop(signum)  # impatient: a second signal does not cut the job either
    process.wait_for_line(f"{name} received again")
    assert process.proc.poll() is None
    (state / "release").write_text("")
    assert process.exit_code() == 0
    assert (state / "finished-0").exists()
    order = [line for line in process.lines if line in ("INFO: job finished", "INFO: scheduler stopped")]
    assert order == ["INFO: job finished", "INFO: scheduler stopped"]


def test_run_now_runs_once_then_waits_for_the_schedule(scheduler, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    process = scheduler("once")
    process.wait_for_line("job finished")
    process.wait_for_line("T08:17:00+00:00")
    process.stop()
    assert process.exit_code() == 0
    assert [p.name for p in (tmp_path / "state").glob("started-*")] == ["started-0"]


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("fail", "ERROR: job failed: the remote refused the push"), ("crash", "ERROR: job failed unexpectedly")],
)
def test_a_failing_job_is_logged_and_the_schedule_goes_on(scheduler, mode: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    process = scheduler(mode)
    process.wait_for_line(expected)
    process.wait_for_line("T08:17:00+00:00")
    process.stop()
    assert process.exit_code() == 0
    if mode == "fail":
        # Our errors are one line; only a bug earns a traceback.
        assert not any("Traceback" in line for line in process.lines)


# --- the command, end to end against the local Scholar

SID = "schedAAAAAAJ"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def test_schedule_command_runs_publishes_and_stops_cleanly(replay, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    expected = replay.add_profile(SID, 130)
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", str(bare))
    home = tmp_path / "home"
    git(tmp_path, "clone", "--quiet", str(bare), str(home))
    config = home / "scholar-stats.toml"
    config.write_text(
        f'data_dir = "data"\ndelay = 0\nretries = 0\nbase_url = "{replay.url}"\n\n[[authors]]\nid = "{SID}"\n'
    )
    # No git identity, as on a fresh machine: publishing falls back to its own.
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    command = [
        sys.executable,
        "-m",
        "crawler",
        "schedule",
        "--config",
        str(config),
        "--run-now",
        "--publish",
        "--cron",
        "17 8 * * *",
        "--timezone",
        "UTC",
    ]
    process = Process(command, cwd=home, env=env)
    try:
        process.wait_for_line("published")
        process.wait_for_line("next run at")
        process.stop()
        assert process.exit_code() == 0
    finally:
        process.kill()
    gs_data = json.loads((home / "data" / SID / "gs_data.json").read_text())
    assert gs_data["citedby"] == expected.citations
    assert len(gs_data["publications"]) == 130
    assert len(list((home / "data" / SID / "snapshots").glob("*.json"))) == 1
    published = subprocess.run(
        ["git", "show", "google-scholar-stats:gs_data.json"], cwd=bare, capture_output=True, check=True
    ).stdout
    assert json.loads(published)["citedby"] == expected.citations
    assert process.lines[-1] == "INFO: scheduler stopped"
    assert not any("Traceback" in line for line in process.lines)


# --- the job of the command, in process


def test_the_publishing_job_restores_first_and_never_publishes_a_failed_run(
    replay: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from replay import Captcha

    from crawler.config import load_config
    from crawler.schedule import PublishOptions, make_job

    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", str(bare))

    def machine(name: str) -> tuple[Path, object]:
        home = tmp_path / name
        git(tmp_path, "clone", "--quiet", str(bare), str(home))
        data = home / "data"

        def load():  # type: ignore[no-untyped-def]
            return load_config(
                None, authors=[SID], data_dir=data, base_url=replay.url, http={"delay": 0.0, "retries": 0}
            )

        return data, make_job(load, publish_options=PublishOptions(repo=home))

    replay.add_profile(SID, 20, citations=300)
    _, laptop_job = machine("laptop")
    assert laptop_job() == 0  # type: ignore[operator]
    first = git(bare, "rev-parse", "google-scholar-stats")

    # A second machine with an empty data folder: it takes the laptop's snapshot
    # before running, so its publish goes on top and keeps both snapshots.
    replay.add_profile(SID, 20, citations=310)
    server_data, server_job = machine("server")
    assert server_job() == 0  # type: ignore[operator]
    second = git(bare, "rev-parse", "google-scholar-stats")
    assert git(bare, "rev-parse", f"{second}^") == first
    snapshots = [
        f for f in git(bare, "ls-tree", "-r", "--name-only", second).splitlines() if "/snapshots/" in f
    ]
    assert len(snapshots) == 2
    assert len(list((server_data / SID / "snapshots").glob("*.json"))) == 2

    # Blocked: the job reports exit code 3 and the branch does not move.
    replay.add_profile(SID, 20, citations=320)
    replay.set_scenario(SID, Captcha())
    assert server_job() == 3  # type: ignore[operator]
    assert git(bare, "rev-parse", "google-scholar-stats") == second
