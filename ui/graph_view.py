"""The part of the knowledge graph behind an answer, as data and as a clickable chart.

:func:`subgraph` gathers, through the public API only, the retrieved passages,
the entities that led to them (the hits' graph paths), the entity each
passage's document is about (its title), then, breadth first, the entities
related to those by relations evidenced in the same passages, and the edges
between them::

    sub = subgraph(kb, answer.hits, cited={c.chunk_id for c in answer.citations})
    st.altair_chart(chart(sub), on_select="rerun", selection_mode="node")

Node ids are ``entity:<entity id>`` and ``passage:<chunk id>``; the hits'
paths are typed steps (:class:`~kgqa.types.EntityStep`, ``RelationStep``,
``ChunkStep``), read here as they are.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kgqa.errors import NotFoundError
from kgqa.types import (
    CO_OCCURS,
    MENTIONED_IN,
    MENTIONS,
    TITLE_LABEL,
    ChunkStep,
    Entity,
    EntityStep,
    Hit,
    RelationStep,
)

if TYPE_CHECKING:
    from pipelines.kb import KnowledgeBase

SELECTION = "node"  # the chart's selection parameter
KINDS = {"cited": "cited passage", "passage": "passage", "entity": "entity"}


@dataclass(frozen=True)
class Node:
    id: str  # "entity:<entity id>" | "passage:<chunk id>"
    label: str
    kind: str  # "entity" | "passage" | "cited"
    ref: str  # the entity id (or name) or the chunk id
    detail: str = ""  # an entity's label (PERSON, ORG...), a passage's document title


@dataclass
class Subgraph:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (a, b) -> labels

    def add_node(self, node: Node) -> str:
        old = self.nodes.get(node.id)
        if old is None or (old.kind == "passage" and node.kind == "cited"):
            self.nodes[node.id] = node
        return node.id

    def add_edge(self, a: str, b: str, label: str) -> None:
        if a != b and a in self.nodes and b in self.nodes:
            labels = self.edges.setdefault((a, b) if a < b else (b, a), set())
            labels.add(label)
            if "about" in labels:  # a passage is about its document's entity: "in" says less
                labels.discard("in")

    @property
    def entity_count(self) -> int:
        return sum(1 for n in self.nodes.values() if n.kind == "entity")


def subgraph(
    kb: KnowledgeBase,
    hits: Sequence[Hit],
    cited: Collection[str] = (),
    max_entities: int = 30,
) -> Subgraph:
    """The entities, relations and passages behind ``hits`` (``cited``: chunk ids)."""
    g = Subgraph()
    chunk_ids = {h.chunk.id for h in hits}
    known: dict[str, Entity | None] = {}

    def resolve(name: str) -> Entity | None:
        if name not in known:
            try:
                known[name] = kb.entity(name)
            except NotFoundError:
                known[name] = None
        return known[name]

    def entity_node(name: str) -> str | None:
        ent = resolve(name)
        nid = f"entity:{ent.id if ent else name}"
        if nid not in g.nodes and g.entity_count >= max_entities:
            return None
        if ent is None:
            return g.add_node(Node(nid, name, "entity", name))
        return g.add_node(Node(nid, ent.name, "entity", ent.id, ent.label))

    for h in hits:
        kind = "cited" if h.chunk.id in cited else "passage"
        label = f"{h.title or h.chunk.doc_id} #{h.chunk.index}"
        g.add_node(Node(f"passage:{h.chunk.id}", label, kind, h.chunk.id, h.title))

    # 1. the paths that led retrieval from the question's entities to each passage
    seeds: list[str] = []
    for h in hits:
        for path in h.paths:
            previous: str | None = None
            how = ""
            for item in path:
                step: str | None
                if isinstance(item, RelationStep):
                    how = item.label
                    continue
                if isinstance(item, ChunkStep):
                    index = item.chunk_id.rsplit("#", 1)[-1]
                    step = g.add_node(Node(f"passage:{item.chunk_id}", f"{item.title} #{index}",
                                           "passage", item.chunk_id, item.title))  # fmt: skip
                else:
                    assert isinstance(item, EntityStep)
                    step = entity_node(item.id)
                    seeds.append(item.id)
                if previous and step:
                    g.add_edge(previous, step, "in" if how in (MENTIONED_IN, MENTIONS) else how)
                previous = step
        seeds.extend(h.entities)
    # 2. what each passage's document is about (its title), then, breadth first, the
    #    entities related to those by relations evidenced in the retrieved passages
    seeds.extend(h.title for h in hits if h.title)
    queue = list(dict.fromkeys(seeds))
    done: set[str] = set()
    while queue:
        ent = resolve(queue.pop(0))
        if ent is None or ent.id in done:
            continue
        done.add(ent.id)
        nid = entity_node(ent.id)
        if nid is None:
            continue
        for mention in kb.mentions(ent.id):
            if mention.chunk_id in chunk_ids:
                how = "about" if mention.label == TITLE_LABEL else "in"
                g.add_edge(nid, f"passage:{mention.chunk_id}", how)
        for nb in kb.neighbours(ent.id, limit=50):
            rels = [r for r in nb.relations if r.chunk_id in chunk_ids]
            if not rels:
                continue
            known.setdefault(nb.entity.id, nb.entity)
            other = entity_node(nb.entity.id)
            if other is None:
                continue
            queue.append(nb.entity.id)
            for r in rels:
                g.add_edge(nid, other, "together" if r.label == CO_OCCURS else r.label)
                g.add_edge(other, f"passage:{r.chunk_id}", "in")
    return g


def _short(text: str, n: int = 28) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def positions(g: Subgraph, seed: int = 7) -> dict[str, tuple[float, float]]:
    """A force-directed layout, the same for the same graph."""
    import networkx as nx

    nxg = nx.Graph()
    nxg.add_nodes_from(sorted(g.nodes))
    nxg.add_edges_from(sorted(g.edges))
    if not nxg:
        return {}
    k = 1.6 / math.sqrt(max(1, len(nxg)))
    pos = nx.spring_layout(nxg, seed=seed, k=k, iterations=200)
    return {n: (float(x), float(y)) for n, (x, y) in pos.items()}


def chart(g: Subgraph, height: int = 480) -> Any:
    """An Altair node-link chart; clicking a node selects it (parameter ``node``, field ``id``)."""
    import altair as alt
    import pandas as pd

    pos = positions(g)
    nodes = pd.DataFrame(
        [
            {
                "id": n.id,
                "name": n.label,
                "label": _short(n.label),
                "kind": KINDS[n.kind],
                "detail": n.detail,
                "x": pos[n.id][0],
                "y": pos[n.id][1],
            }
            for n in g.nodes.values()
        ]
    )
    edges = pd.DataFrame(
        [
            {
                "x": pos[a][0],
                "y": pos[a][1],
                "x2": pos[b][0],
                "y2": pos[b][1],
                "mx": (pos[a][0] + pos[b][0]) / 2,
                "my": (pos[a][1] + pos[b][1]) / 2,
                "relation": ", ".join(sorted(labels)),
                "between": f"{g.nodes[a].label} — {g.nodes[b].label}",
            }
            for (a, b), labels in g.edges.items()
        ],
        columns=["x", "y", "x2", "y2", "mx", "my", "relation", "between"],
    )
    x = alt.X("x:Q", axis=None, scale=alt.Scale(zero=False, padding=40))
    y = alt.Y("y:Q", axis=None, scale=alt.Scale(zero=False, padding=30))
    pick = alt.selection_point(name=SELECTION, fields=["id"], on="click")
    kinds = list(KINDS.values())
    lines = (
        alt.Chart(edges)
        .mark_rule(color="#c7c7c7", strokeWidth=1.2)
        .encode(x=x, y=y, x2="x2:Q", y2="y2:Q", tooltip=["between:N", "relation:N"])
    )
    layers = [lines]
    if len(edges) <= 45:
        layers.append(
            alt.Chart(edges)
            .mark_text(fontSize=9, color="#8a8a8a")
            .encode(x=alt.X("mx:Q", axis=None), y=alt.Y("my:Q", axis=None), text="relation:N")
        )
    points = (
        alt.Chart(nodes)
        .mark_point(filled=True, size=360, stroke="white", strokeWidth=1.5)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "kind:N",
                scale=alt.Scale(domain=kinds, range=["#e4572e", "#f3a712", "#2e86ab"]),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            shape=alt.Shape(
                "kind:N",
                scale=alt.Scale(domain=kinds, range=["square", "square", "circle"]),
                legend=None,
            ),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.35)),
            tooltip=[
                alt.Tooltip("name:N", title="name"),
                alt.Tooltip("kind:N"),
                alt.Tooltip("detail:N"),
            ],
        )
        .add_params(pick)
    )
    names = (
        alt.Chart(nodes)
        .mark_text(dy=-16, fontSize=11, color="#333")
        .encode(x=x, y=y, text="label:N")
    )
    layers += [points, names]
    return alt.layer(*layers).properties(height=height).configure_view(strokeWidth=0)


def selected_node(event: Any) -> str | None:
    """The node id clicked in the chart, from ``st.altair_chart(..., on_select=...)``'s value."""
    try:
        picked = event.selection.get(SELECTION) or []
    except AttributeError:
        return None
    if isinstance(picked, list) and picked and isinstance(picked[0], dict):
        value = picked[0].get("id")
        return str(value) if value else None
    return None
