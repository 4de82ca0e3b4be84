"""Compiled kernels (placeholder until the kernels land)."""
