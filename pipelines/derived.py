"""Derived indexes of a knowledge base: the FAISS index and the networkx graph.

Both are rebuilt from the SQLite store, stamped with the store's
``generation`` and written atomically (temp file + rename). When a stamp does
not match the store (a crash between the store's commit and the index write,
or a file deleted by hand), the index is rebuilt on open, so a stale index is
never searched.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kg.store import GraphStore
from retrieval.vector_index import FaissIndex, read_sidecar, write_sidecar

if TYPE_CHECKING:
    import networkx as nx

VECTORS = "vectors.faiss"
VECTORS_META = "vectors.json"
GRAPH = "graph.pickle"


def build_vector_index(store: GraphStore, dim: int, kind: str = "auto") -> FaissIndex:
    keys, vecs = [], []
    for k, v in store.iter_vectors():
        keys.append(k)
        vecs.append(v)
    if not keys:
        return FaissIndex.build(np.zeros(0, np.int64), np.zeros((0, dim), np.float32), kind)
    return FaissIndex.build(np.concatenate(keys), np.concatenate(vecs), kind)  # (n, dim)


def load_or_build_vector_index(
    directory: Path, store: GraphStore, dim: int, kind: str = "auto"
) -> FaissIndex:
    """Return the on-disk index when its stamp matches the store, else rebuild and save it."""
    meta = read_sidecar(directory / VECTORS_META)
    path = directory / VECTORS
    if meta.get("generation") == store.generation and path.exists():
        index = FaissIndex.load(path)
        if len(index) == meta.get("count") and index.dim == dim:
            return index
    index = build_vector_index(store, dim, kind)
    save_vector_index(directory, store, index)
    return index


def save_vector_index(directory: Path, store: GraphStore, index: FaissIndex) -> None:
    # The sidecar is written after the index: a crash in between leaves an old
    # stamp, which only triggers a rebuild.
    write_sidecar(directory / VECTORS_META, generation=-1)
    index.save(directory / VECTORS)
    write_sidecar(
        directory / VECTORS_META, generation=store.generation, count=len(index), kind=index.kind
    )


def build_graph(store: GraphStore) -> nx.Graph:
    """The entity–chunk graph: nodes ``("e", id)`` and ``("c", key)``.

    Edges: ``mention`` between a chunk and each entity it mentions (weight =
    number of mentions); ``relation`` between two entities (``labels`` = the
    relation labels seen, weight = how often).
    """
    import networkx as nx

    g = nx.Graph()
    u: tuple[str, int | str]
    v: tuple[str, int | str]
    for key, entity in store.iter_mention_edges():
        u, v = ("c", key), ("e", entity)
        if g.has_edge(u, v):
            g[u][v]["weight"] += 1
        else:
            g.add_edge(u, v, kind="mention", weight=1)
    for source, target, label in store.iter_relation_edges():
        u, v = ("e", source), ("e", target)
        if g.has_edge(u, v):
            data = g[u][v]
            data["weight"] += 1
            data["labels"].add(label)
        else:
            g.add_edge(u, v, kind="relation", weight=1, labels={label})
    return g


def load_or_build_graph(directory: Path, store: GraphStore) -> nx.Graph:
    path = directory / GRAPH
    try:
        with open(path, "rb") as f:
            generation, graph = pickle.load(f)
        if generation == store.generation:
            return graph
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError):
        pass
    graph = build_graph(store)
    save_graph(directory, store, graph)
    return graph


def save_graph(directory: Path, store: GraphStore, graph: nx.Graph) -> None:
    path = directory / GRAPH
    tmp = path.with_name(GRAPH + ".tmp")
    with open(tmp, "wb") as f:
        pickle.dump((store.generation, graph), f, protocol=pickle.HIGHEST_PROTOCOL)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
