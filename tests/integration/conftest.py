"""Integration fixtures: one real Neo4j server for the whole test session."""

from __future__ import annotations

import pytest

from tests.neo4j_server import Neo4jServer, java_available


@pytest.fixture(scope="session")
def neo4j_server(tmp_path_factory):
    """A Neo4j 5.26 Community server on a free loopback port: ``(uri, user, password)``.

    Started once per session (the jars are fetched through Maven the first time
    and cached) and stopped at the end, failing tests included. Without Java the
    Neo4j tests are skipped; any other reason the server cannot start fails them.
    """
    if not java_available():
        pytest.skip("java is not installed: the Neo4j tests need a JDK 17+")
    server = Neo4jServer(tmp_path_factory.mktemp("neo4j-home"))
    try:
        server.start()
        yield server.auth
    finally:
        server.stop()


@pytest.fixture
def neo4j_settings(neo4j_server):
    from kg.neo4j_store import Neo4jSettings

    uri, user, password = neo4j_server
    return Neo4jSettings(uri=uri, user=user, password=password)


@pytest.fixture(scope="session")
def real_generator():
    """The default generator (Qwen2.5-Coder-0.5B-Instruct), loaded once per session."""
    from llm.transformers_backend import TransformersGenerator

    return TransformersGenerator().load()
