"""Ingestion, question answering, evaluation, the knowledge-base facade and the CLI."""
