"""Embedders, the FAISS vector index, lexical and graph retrieval, and fusion."""
