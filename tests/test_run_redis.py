"""A `flask` command beside `make run` uses make run's Redis, while that process lives."""

from __future__ import annotations

import json
import os
import subprocess

import click

from scanner_app import create_app
from scanner_app.run_redis import RECORD, running_redis_url


def _record(folder, url: str, pid) -> None:
    (folder / RECORD).write_text(json.dumps({"url": url, "pid": pid}))


def test_a_live_process_lends_its_redis(tmp_path):
    _record(tmp_path, "redis://127.0.0.1:6390/0", os.getpid())
    assert running_redis_url(tmp_path) == "redis://127.0.0.1:6390/0"


def test_a_gone_process_or_a_bad_record_lends_nothing(tmp_path):
    gone = subprocess.Popen(["true"])
    gone.wait()
    _record(tmp_path, "redis://127.0.0.1:6390/0", gone.pid)
    assert running_redis_url(tmp_path) is None
    for text in ("not json", "[]", '{"url": 5, "pid": 1}', '{"url": "redis://x", "pid": "1"}'):
        (tmp_path / RECORD).write_text(text)
        assert running_redis_url(tmp_path) is None
    assert running_redis_url(tmp_path / "none") is None


def test_a_flask_command_without_redis_url_uses_make_runs_redis(app_config, redis_url, tmp_path):
    _record(tmp_path, redis_url, os.getpid())
    config = {
        **app_config,
        "REDIS_URL": None,
        "CACHE_BACKEND": None,
        "INSTANCE_PATH": str(tmp_path),
    }
    with click.Context(click.Command("flask")):
        app = create_app(config)
    assert app.config["REDIS_URL"] == redis_url
    assert app.extensions["put_scanner"].store.ping()


def test_a_server_without_redis_url_does_not_look_for_it(app_config, redis_url, tmp_path):
    _record(tmp_path, redis_url, os.getpid())
    config = {
        **app_config,
        "REDIS_URL": None,
        "CACHE_BACKEND": None,
        "INSTANCE_PATH": str(tmp_path),
    }
    assert create_app(config).config["REDIS_URL"] is None


def test_the_no_redis_warning_says_install_only_when_redis_server_is_missing(
    app_config, monkeypatch, caplog
):
    config = {**app_config, "REDIS_URL": None, "CACHE_BACKEND": None}
    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/redis-server")
    create_app(config)
    assert "make run starts redis-server" in caplog.text and "Install" not in caplog.text
    caplog.clear()
    monkeypatch.setattr("shutil.which", lambda name: None)
    create_app(config)
    assert "Install redis-server" in caplog.text
