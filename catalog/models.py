"""Shops, offers and catalogs arrive with the catalog issue."""
