from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.catalog_list, name="list"),
    path("review/", views.review_queue, name="review"),
    path("figures/", views.figures_page, name="figures"),
    path("import/", views.import_page, name="import"),
    path("import/<int:offer_import_id>/", views.import_detail, name="import-detail"),
    path("import/classify/", views.classify_start, name="classify"),
    path("runs/", views.run_start, name="run-start"),
    path("runs/<int:catalog_run_id>/", views.run_page, name="run"),
    path("runs/<int:catalog_run_id>/cancel/", views.run_cancel, name="run-cancel"),
    path("rules/<int:category_id>/", views.rules_page, name="rules"),
    path("<int:catalog_id>/", views.catalog_page, name="catalog"),
    path("<int:catalog_id>/decide/", views.catalog_decide, name="decide"),
]
