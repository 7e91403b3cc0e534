"""Generators that write grounded answers from retrieved passages."""
