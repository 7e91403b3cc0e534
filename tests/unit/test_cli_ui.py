"""``kgqa ui``: its options and the Streamlit command it runs (the server itself runs in
``tests/integration/test_ui_browser.py``)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pipelines.cli import build_parser, main
from pipelines.cli_ui import app_path, streamlit_command
from tests.conftest import ROOT


def test_defaults_serve_this_machine_only(tmp_path):
    args = build_parser().parse_args(["ui", "--kb", str(tmp_path)])
    assert (args.command, args.host, args.port, args.no_browser) == ("ui", "127.0.0.1", 8501, False)
    args = build_parser().parse_args(["ui", "--host", "0.0.0.0", "--port", "9000", "--no-browser"])
    assert (args.host, args.port, args.no_browser) == ("0.0.0.0", 9000, True)


def test_the_streamlit_command_runs_the_installed_app_on_the_base(tmp_path):
    app = app_path()
    assert app == ROOT / "ui" / "app.py" and app.is_file()
    cmd = streamlit_command(app, str(tmp_path), "127.0.0.1", 8600)
    assert cmd[:4] == [sys.executable, "-m", "ui.serve", str(app)]  # streamlit run, warmed up
    flags = dict(zip(cmd[4:-3:2], cmd[5:-3:2], strict=True))
    assert flags["--server.address"] == "127.0.0.1"
    assert flags["--server.port"] == "8600"
    assert flags["--server.headless"] == "true"
    assert flags["--browser.gatherUsageStats"] == "false"
    assert cmd[-3:] == ["--", "--kb", str(tmp_path)]


def test_a_bad_port_is_bad_usage_not_a_traceback(capsys, tmp_path):
    with pytest.raises(SystemExit) as e:
        main(["ui", "--kb", str(tmp_path), "--port", "70000"])
    assert e.value.code == 2  # bad usage, as the README promises
    assert "--port: must be at most 65535, got 70000" in capsys.readouterr().err


def test_help_lists_ui_without_importing_streamlit():
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, pipelines.cli as c; c.build_parser().format_help(); "
            "print('streamlit' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout.strip()
    assert out == "False"
    assert " ui " in build_parser().format_help()
