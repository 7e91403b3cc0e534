"""A real Neo4j 5.26 Community server for the tests, from Maven Central jars.

    server = Neo4jServer(tmp_dir).start()    # fetches the jars once, then ~20 s
    server.uri, server.user, server.password
    server.stop()                             # or kill() (SIGKILL) and start() again

The jars (``org.neo4j:neo4j`` and its runtime dependencies, ~150 MB) are
copied by ``mvn dependency:copy-dependencies`` from a generated pom into
``$KGQA_CACHE/neo4j-VERSION/lib`` (default ``~/.cache/kgqa``), only when that
folder is not complete yet. The server runs the ``CommunityEntryPoint`` class
straight from that classpath, with its home (conf, data, logs) in a folder of
its own, Bolt on a free loopback port, HTTP off, authentication on, and the
initial password set by the admin tool's ``dbms set-initial-password`` before
the first start.

Run it by hand: ``python -m tests.neo4j_server [HOME]`` prints the URI and
waits until Ctrl-C.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NEO4J_VERSION = os.environ.get("KGQA_NEO4J_VERSION", "5.26.30")
USER = "neo4j"
PASSWORD = "kgqa-test-password"

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>kgqa.tests</groupId>
  <artifactId>neo4j-server-jars</artifactId>
  <version>1</version>
  <dependencies>
    <dependency>
      <groupId>org.neo4j</groupId>
      <artifactId>neo4j</artifactId>
      <version>{version}</version>
    </dependency>
  </dependencies>
</project>
"""

_JAVA_OPTIONS = (
    "-Xms256m",
    "-Xmx768m",
    "-XX:+UseSerialGC",
    "-Dfile.encoding=UTF-8",
    "-Dlog4j2.disable.jmx=true",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
)


class Neo4jServerError(RuntimeError):
    """The test server could not be fetched or started; the message says why."""


def java_available() -> bool:
    return shutil.which("java") is not None


def cache_root() -> Path:
    return Path(os.environ.get("KGQA_CACHE") or Path.home() / ".cache" / "kgqa")


def ensure_jars(version: str = NEO4J_VERSION) -> Path:
    """The folder of the server's jars, fetched through Maven when not cached yet."""
    home = cache_root() / f"neo4j-{version}"
    lib = home / "lib"
    done = home / "lib.complete"
    if done.exists():
        return lib
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one download when several sessions start at once
        if done.exists():
            return lib
        mvn = shutil.which("mvn")
        if mvn is None:
            raise Neo4jServerError(
                "Maven (mvn) is needed once to fetch the Neo4j server jars: apt-get install maven"
            )
        partial = home / "lib.partial"
        shutil.rmtree(partial, ignore_errors=True)
        (home / "pom.xml").write_text(_POM.format(version=version))
        cmd = [
            mvn,
            "-B",
            "-q",
            "-f",
            str(home / "pom.xml"),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={partial}",
            "-DincludeScope=runtime",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            raise Neo4jServerError(
                f"fetching org.neo4j:neo4j:{version} with Maven failed "
                f"(exit {proc.returncode}):\n{(proc.stdout + proc.stderr)[-3000:]}"
            )
        shutil.rmtree(lib, ignore_errors=True)
        os.replace(partial, lib)
        done.write_text(version + "\n")
    return lib


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Neo4jServer:
    """One Neo4j Community server process with its home in ``home``."""

    def __init__(
        self,
        home: Path,
        port: int | None = None,
        password: str = PASSWORD,
        quick_start: bool = True,
        heap: str = "768m",
        pagecache: str = "128m",
    ) -> None:
        """``quick_start``: C1 JIT only, which starts faster and suits short test sessions;
        a benchmark wants the full JIT (``False``) and more memory (``heap``, ``pagecache``)."""
        self.home = Path(home)
        self.port = port or free_port()
        self.user = USER
        self.password = password
        self.quick_start = quick_start
        self.heap = heap
        self.pagecache = pagecache
        self.proc: subprocess.Popen[bytes] | None = None
        self._console: object | None = None

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.port}"

    @property
    def auth(self) -> tuple[str, str, str]:
        return self.uri, self.user, self.password

    def _write_config(self) -> None:
        conf = self.home / "conf"
        conf.mkdir(parents=True, exist_ok=True)
        for sub in ("data", "logs", "plugins", "import", "run"):
            (self.home / sub).mkdir(exist_ok=True)
        (conf / "neo4j.conf").write_text(
            "\n".join(
                [
                    "server.default_listen_address=127.0.0.1",
                    "server.default_advertised_address=127.0.0.1",
                    f"server.bolt.listen_address=127.0.0.1:{self.port}",
                    f"server.bolt.advertised_address=127.0.0.1:{self.port}",
                    "server.bolt.tls_level=DISABLED",
                    "server.http.enabled=false",
                    "server.https.enabled=false",
                    "dbms.security.auth_enabled=true",
                    "dbms.usage_report.enabled=false",
                    "server.memory.heap.initial_size=256m",
                    f"server.memory.heap.max_size={self.heap}",
                    f"server.memory.pagecache.size={self.pagecache}",
                    "db.tx_log.rotation.retention_policy=2 files",
                    "db.logs.query.enabled=OFF",
                    "server.jvm.additional=-XX:+UseSerialGC",
                    "",
                ]
            )
        )

    def _java(self, main: str, *args: str) -> list[str]:
        lib = ensure_jars()
        quick = ("-XX:TieredStopAtLevel=1",) if self.quick_start else ()
        options = [f"-Xmx{self.heap}" if o.startswith("-Xmx") else o for o in _JAVA_OPTIONS]
        return [
            "java",
            *options,
            *quick,
            "-cp",
            f"{lib}/*",
            main,
            *args,
        ]

    def _env(self) -> dict[str, str]:
        return dict(os.environ, NEO4J_HOME=str(self.home), NEO4J_CONF=str(self.home / "conf"))

    def _set_initial_password(self) -> None:
        marker = self.home / "data" / ".password-set"
        if marker.exists():
            return
        cmd = self._java(
            "org.neo4j.cli.AdminTool",
            "dbms",
            "set-initial-password",
            self.password,
        )
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=300, env=self._env(), cwd=self.home
        )
        if proc.returncode != 0:
            raise Neo4jServerError(
                f"neo4j-admin dbms set-initial-password failed (exit {proc.returncode}):\n"
                f"{(proc.stdout + proc.stderr)[-3000:]}"
            )
        marker.write_text("set\n")

    def start(self, timeout: float = 240.0) -> Neo4jServer:
        """Start the server (setting it up on the first start) and wait until Bolt answers."""
        if not java_available():
            raise Neo4jServerError("java is not on PATH: install a JDK 17 or 21")
        if self.proc is not None and self.proc.poll() is None:
            return self
        self._write_config()
        self._set_initial_password()
        cmd = self._java(
            "org.neo4j.server.CommunityEntryPoint",
            f"--home-dir={self.home}",
            f"--config-dir={self.home / 'conf'}",
        )
        console = open(self.home / "logs" / "console.log", "ab")  # noqa: SIM115
        self._console = console
        self.proc = subprocess.Popen(
            cmd,
            stdout=console,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self._env(),
            cwd=self.home,
            start_new_session=True,
        )
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.kill()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        import neo4j

        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise Neo4jServerError(
                    f"the Neo4j server exited with {self.proc.returncode} while starting:\n"
                    + self.log_tail()
                )
            try:
                with neo4j.GraphDatabase.driver(
                    self.uri, auth=(self.user, self.password), connection_timeout=2.0
                ) as driver:
                    driver.verify_connectivity()
                    driver.execute_query("RETURN 1", database_="neo4j")
                return
            except Exception as e:  # not up yet
                last = e
                time.sleep(0.5)
        raise Neo4jServerError(
            f"the Neo4j server did not answer on {self.uri} within {timeout:.0f}s "
            f"(last error: {last}):\n{self.log_tail()}"
        )

    def log_tail(self, chars: int = 4000) -> str:
        parts = []
        for name in ("console.log", "neo4j.log", "debug.log"):
            path = self.home / "logs" / name
            if path.exists():
                text = path.read_text(errors="replace")
                parts.append(f"--- {path} ---\n{text[-chars:]}")
        return "\n".join(parts) or "(no logs)"

    def stop(self, timeout: float = 60.0) -> None:
        """Shut down cleanly (SIGTERM), killing the JVM if it does not exit in time."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_console()

    def kill(self) -> None:
        """Stop the JVM at once (SIGKILL), as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(60)
        self._close_console()

    def _close_console(self) -> None:
        if self._console is not None:
            self._console.close()  # type: ignore[attr-defined]
            self._console = None

    def __enter__(self) -> Neo4jServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    home = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="neo4j-"))
    t = time.perf_counter()
    with Neo4jServer(home) as server:
        print(
            f"{server.uri} user {server.user} password {server.password} "
            f"(up in {time.perf_counter() - t:.1f}s; home {home}); Ctrl-C stops it"
        )
        with contextlib.suppress(KeyboardInterrupt):
            while server.proc is not None and server.proc.poll() is None:
                time.sleep(1)


if __name__ == "__main__":
    main()
