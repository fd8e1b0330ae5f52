"""Uncategorised offers get the category a dataset's ensemble predicts, in process, with history."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.models import Offer, Shop
from catalog.services.offers import offers_classify
from tests.factories import DatasetFactory, SmallCategoryFactory, UserFactory
from training.models import RuleMapping

pytestmark = pytest.mark.django_db


def test_uncategorised_offers_are_classified_by_the_datasets_ensemble():
    dataset = DatasetFactory()
    audio = SmallCategoryFactory(parent__taxonomy=dataset.taxonomy, name="audio")
    cameras = SmallCategoryFactory(parent=audio.parent, name="cameras")
    RuleMapping.objects.create(
        dataset=dataset, name="a", kind="keywords", pattern="speaker, turntable", category=audio
    )
    RuleMapping.objects.create(
        dataset=dataset, name="c", kind="keywords", pattern="camera, lens", category=cameras
    )
    shop = Shop.objects.create(name="abt")
    speaker = Offer.objects.create(shop=shop, external_id="1", title="Bose speaker AM53BK")
    camera = Offer.objects.create(shop=shop, external_id="2", title="Canon EOS camera body")
    placed = Offer.objects.create(shop=shop, external_id="3", title="Canon lens", category=audio)
    assert offers_classify(dataset=dataset, user=UserFactory()) == 2
    speaker.refresh_from_db(), camera.refresh_from_db(), placed.refresh_from_db()
    assert (speaker.category, camera.category, placed.category) == (audio, cameras, audio)
    assert speaker.history.first().history_change_reason.startswith("classified by the champion")


def test_catalog_build_classifies_first_when_asked(capsys):
    dataset = DatasetFactory(name="products")
    audio = SmallCategoryFactory(parent__taxonomy=dataset.taxonomy, name="audio")
    RuleMapping.objects.create(dataset=dataset, name="a", kind="keywords", pattern="speaker", category=audio)
    shop = Shop.objects.create(name="abt")
    for number in range(2):
        Offer.objects.create(shop=shop, external_id=str(number), title=f"Bose speaker AM5{number}BK")
    call_command("catalog_build", "--inline", "--full", "--classify", "products")
    assert "classified 2 offers" in capsys.readouterr().out
    assert Offer.objects.filter(category=audio).count() == 2
    with pytest.raises(CommandError, match="No dataset"):
        call_command("catalog_build", "--classify", "nope")


def test_import_offers_classifies_the_files_uncategorised_offers(tmp_path, capsys):
    dataset = DatasetFactory(name="products")
    audio = SmallCategoryFactory(parent__taxonomy=dataset.taxonomy, name="audio")
    RuleMapping.objects.create(dataset=dataset, name="a", kind="keywords", pattern="speaker", category=audio)
    source = tmp_path / "offers.csv"
    source.write_text("shop,external_id,title\nabt,1,Bose speaker AM53BK\n")
    call_command("import_offers", str(source), "--apply", "--classify", "products")
    assert "1 classified" in capsys.readouterr().out
    assert Offer.objects.get().category == audio
