"""The catalog demo of `make run`: Abt and Buy offers (catalog/demo_data), a taxonomy, a first build."""

from __future__ import annotations

import gzip
from pathlib import Path

from django.db import transaction

from catalog.models import CategoryRules, Offer
from catalog.services.offers import offers_apply
from catalog.services.runs import catalog_run_inline
from core.history import save_with_history
from labeling.models import Category, Taxonomy
from labeling.services.taxonomy import category_create

DEMO_FILE = Path(__file__).resolve().parent.parent / "demo_data" / "offers.csv.gz"
TAXONOMY = "products"
SMALL = ("TV & video", "cameras", "audio", "navigation & phones")


def _taxonomy(user) -> None:
    taxonomy, _ = Taxonomy.objects.get_or_create(
        name=TAXONOMY, defaults={"description": "Product categories of the catalog demo."}
    )
    large = Category.objects.filter(taxonomy=taxonomy, level=1, name="electronics").first()
    if large is None:
        large = category_create(taxonomy=taxonomy, name="electronics", user=user, reason="catalog demo")
    for name in SMALL:
        small = Category.objects.filter(parent=large, name=name).first()
        if small is None:
            small = category_create(
                taxonomy=taxonomy, parent=large, name=name, user=user, reason="catalog demo"
            )
        if not CategoryRules.objects.filter(category=small).exists():
            # stricter than the default, so the demo's review queue has catalogs to show
            rules = CategoryRules(category=small, publish_threshold=0.5)
            save_with_history(rules, user=user, reason="catalog demo")


def catalog_demo_load(*, user=None) -> dict | None:
    """Load the demo offers and build their catalogs once; None when offers exist already."""
    if Offer.objects.exists():
        return None
    with transaction.atomic():
        _taxonomy(user)
        imported = offers_apply(
            data=gzip.decompress(DEMO_FILE.read_bytes()), user=user, file_name=DEMO_FILE.name
        )
    run = catalog_run_inline(user=user)
    return {"offers": imported["new"], "run": run.id, **run.figures}
