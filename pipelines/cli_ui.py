"""``kgqa ui``: serve the Streamlit web page on a knowledge base.

    kgqa ui --kb DIR [--port 8501] [--host 127.0.0.1] [--no-browser]

It runs ``python -m ui.serve <installed ui/app.py> -- --kb DIR`` (Streamlit's
``run``, after starting to load the base's models in the background, see
``ui/warm.py``) on 127.0.0.1 (another address only when asked with
``--host``), waits until the server answers, and opens the page in a browser
when there is a display (unless ``--no-browser``). The server's terminal says
when the models are ready. Ctrl-C stops the server. Streamlit is imported by
the child process only, so ``kgqa --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from pipelines import cli_args

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # localhost directly


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ui", help="open the web UI (ask, explore, add documents) on a base")
    p.add_argument(
        "--kb",
        default=os.environ.get("KGQA_KB", "kgqa-kb"),
        help="knowledge base directory (default: $KGQA_KB or ./kgqa-kb)",
    )
    p.add_argument(
        "--port", type=cli_args.port, default=8501, help="port to serve on (default 8501)"
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument(
        "--model",
        metavar="PATH",
        type=cli_args.model_path,
        help="answer with this Transformers directory or .gguf file, e.g. the model "
        "directory kgqa finetune writes (default: $KGQA_MODEL, else the default model)",
    )


def app_path() -> Path:
    """``app.py`` next to the installed ``ui/__init__.py``."""
    spec = importlib.util.find_spec("ui")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the kgqa 'ui' package is not installed")
    return Path(spec.origin).with_name("app.py")


def streamlit_command(app: Path, kb: str, host: str, port: int) -> list[str]:
    """``streamlit run APP ...`` through ``ui.serve``, which starts loading the models first."""
    return [
        sys.executable, "-m", "ui.serve", str(app),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--client.showErrorDetails", "type",
        "--client.toolbarMode", "minimal",
        "--", "--kb", kb,
    ]  # fmt: skip


def cmd_ui(args: argparse.Namespace) -> int:
    from kgqa.errors import ConfigError

    if not 0 < args.port < 65536:
        raise ConfigError(f"--port must be between 1 and 65535, got {args.port}")
    if importlib.util.find_spec("streamlit") is None:
        raise ConfigError("the web UI needs streamlit: pip install 'streamlit>=1.40'")
    from kgqa.errors import StoreError

    if not (Path(args.kb).expanduser() / "manifest.json").is_file():
        raise StoreError(f"{args.kb}: no knowledge base here (no manifest.json); "
                         f"build one first: kgqa ingest FILES --kb {args.kb}")
    app = app_path()
    kb = str(Path(args.kb).expanduser().resolve())
    host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    url = f"http://[{host}]:{args.port}" if ":" in host else f"http://{host}:{args.port}"
    env = dict(os.environ, KGQA_KB=kb)
    if args.model:  # the app's knowledge base opens its generator from $KGQA_MODEL
        model = Path(args.model).expanduser()
        if not model.exists():
            raise ConfigError(f"--model {args.model}: no such directory or file")
        env["KGQA_MODEL"] = str(model.resolve())
    proc = subprocess.Popen(streamlit_command(app, kb, args.host, args.port), env=env)
    signal.signal(signal.SIGTERM, _interrupt)  # stopping kgqa stops the server too
    try:
        if _wait_ready(url, proc):
            print(f"kgqa web UI on {url} (knowledge base {kb}); Ctrl-C stops it", flush=True)
            if not args.no_browser and _has_display():
                import webbrowser

                webbrowser.open(url)
        elif proc.poll() is not None:
            print(
                f"error: the web UI did not start on {args.host}:{args.port} "
                "(see Streamlit's message above; --port picks another port)",
                file=sys.stderr,
            )
            return 1
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with _NO_PROXY.open(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False


def _has_display() -> bool:
    """A graphical browser can open (a console browser would take over the terminal)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


COMMANDS = {"ui": cmd_ui}
