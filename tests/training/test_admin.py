import pytest
from django.urls import reverse

from tests.factories import UserFactory


@pytest.mark.django_db
def test_record_admins_list_rows_and_refuse_adding(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    for name in ["trainingrun", "championchange", "predictionlog", "ensembleconfig"]:
        assert client.get(reverse(f"admin:training_{name}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:training_{name}_add")).status_code == 403
