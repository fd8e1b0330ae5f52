"""The grouping pipeline, pure (no Django): offers in a pandas frame -> groups of the same product.

features (name vectors, character n-grams, model numbers) -> graph (kNN candidates, blended similarity,
business rules, the cross-shop constraint) -> communities (label propagation / Leiden, quality) -> titles.
"""
