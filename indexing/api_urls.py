from django.urls import path

from indexing import apis

urlpatterns = [
    path("search", apis.SearchApi.as_view(), name="api-search"),
    path("indexing/status", apis.IndexingStatusApi.as_view(), name="api-indexing-status"),
    path("indexing/dead-letters/retry", apis.DeadLetterRetryApi.as_view(), name="api-indexing-retry"),
]
