from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from labeling import selectors
from labeling.models import Dataset


@login_required
def dataset_list(request):
    datasets = selectors.dataset_list_with_counts()
    return render(request, "labeling/dataset_list.html", {"datasets": datasets})


@login_required
def dataset_dashboard(request, dataset_id: int):
    dataset = get_object_or_404(Dataset.objects.select_related("taxonomy"), pk=dataset_id)
    summary = selectors.dataset_summary(dataset=dataset)
    return render(request, "labeling/dashboard.html", {"dataset": dataset, "summary": summary})
