"""The subgraph behind an answer (``ui/graph_view.py``), built through the public API."""

from __future__ import annotations

from types import SimpleNamespace

from kgqa.types import Document
from pipelines.ingest import IngestOptions
from ui.graph_view import chart, positions, selected_node, subgraph

DOCS = [
    Document(
        id="office.md",
        title="Porto office",
        text="Stratwell Instruments opened its office in Porto. Ines Carvalho leads it in Porto.",
    ),
    Document(
        id="buoy.md",
        title="Driftline Buoy",
        text="The Driftline Buoy was designed by Henrik Dahl at Stratwell Instruments.",
    ),
]


def test_subgraph_links_passages_their_entities_and_relations(fake_kb):
    fake_kb.ingest(DOCS, options=IngestOptions(progress=False))
    hits = fake_kb.search("Who leads the Porto office?", top_k=2)
    g = subgraph(fake_kb, hits, cited={"office.md#0"})
    kinds = {nid: n.kind for nid, n in g.nodes.items()}
    assert kinds["passage:office.md#0"] == "cited"
    assert kinds["passage:buoy.md#0"] == "passage"
    assert kinds["entity:ines carvalho"] == "entity"
    assert kinds["entity:stratwell instruments"] == "entity"
    key = ("entity:ines carvalho", "passage:office.md#0")
    assert g.edges[key] == {"in"}  # mentioned in the passage
    assert g.edges[("entity:porto office", "passage:office.md#0")] == {"about"}  # its title
    shared = ("entity:driftline buoy", "entity:stratwell instruments")
    assert "together" in g.edges[shared]  # a relation evidenced in a retrieved passage
    assert all(a in g.nodes and b in g.nodes for a, b in g.edges)


def test_subgraph_is_bounded_and_the_layout_is_stable(fake_kb):
    fake_kb.ingest(DOCS, options=IngestOptions(progress=False))
    hits = fake_kb.search("Stratwell Instruments", top_k=2)
    g = subgraph(fake_kb, hits, max_entities=2)
    assert g.entity_count == 2
    assert positions(g) == positions(g)
    spec = chart(g).to_dict()
    assert [p["name"] for p in spec["params"]] == ["node"]  # the click selection


def test_selected_node_reads_the_chart_selection():
    event = SimpleNamespace(selection={"node": [{"id": "entity:porto"}]})
    assert selected_node(event) == "entity:porto"
    assert selected_node(SimpleNamespace(selection={"node": []})) is None
    assert selected_node(None) is None
