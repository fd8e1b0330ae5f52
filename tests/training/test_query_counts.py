"""The busiest pages read the database a bounded number of times, however many rows they show: a loop that
queries per row (an N+1) fails here before it shows in a benchmark. The limits are today's counts plus a
little room; a new query per page is fine, a query per row is not."""

import pytest
from django.urls import reverse
from django.utils import timezone

from core import roles
from labeling.models import Category
from tests.factories import user_with_role
from tests.training.test_runs import train
from training.services.prediction_log import prediction_log_write

pytestmark = pytest.mark.django_db

# page (URL name), its query string, the most queries it may make (rows shown: at least 50 each)
PAGES = [
    ("labeling:dashboard", {}, 6),  # 4 today
    ("labeling:dataset", {}, 15),  # 13
    ("labeling:browse", {}, 10),  # 8: the search page, 50 of 240 examples
    ("labeling:browse", {"q": "the"}, 10),  # 8
    ("labeling:queue", {}, 15),  # 13
    ("training:health", {}, 14),  # 12: 6 categories, 240 out-of-fold predictions
    ("training:predictions", {}, 9),  # 7: 50 of 120 answers
]


@pytest.fixture
def served(news, settings):
    """news (240 examples in 6 categories) with a champion and 120 logged answers."""
    settings.PREDICTION_LOG_BUFFER_SECONDS = 0
    run = train(news, folds=3)
    categories = list(Category.objects.filter(taxonomy=news.taxonomy, level=Category.Level.SMALL))
    now = timezone.now()
    rows = [
        (
            news.id,
            now,
            f"{n:040d}",
            f"answer {n}",
            categories[n % len(categories)].id,
            0.9,
            {},
            run.id,
            1,
            None,
        )
        for n in range(120)
    ]
    prediction_log_write(rows)
    return news


def test_pages_make_a_bounded_number_of_queries(client, served, django_assert_max_num_queries):
    client.force_login(user_with_role(roles.ADMIN, username="admin"))
    for name, query, most in PAGES:
        url = reverse(name) if name == "labeling:dashboard" else reverse(name, args=[served.id])
        client.get(url, query)  # the session and any per-process caches warm
        with django_assert_max_num_queries(most, info=f"{name} {query}"):
            response = client.get(url, query)
        assert response.status_code == 200
