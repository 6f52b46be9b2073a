"""Contracts: what an OpenAPI description promises clients, and how that promise changes between releases."""
