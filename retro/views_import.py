"""Retro transaction import screens: upload a CSV, follow its progress, download its error report."""

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from retro.imports.forms import TransactionUploadForm
from retro.imports.report import error_report_lines
from retro.models import RetroImportBatch

PERMISSION = "retro.add_retrotransaction"


def _batches():
    return RetroImportBatch.objects.select_related("program", "started_by").order_by("-started_at", "-id")


@login_required
@permission_required(PERMISSION, raise_exception=True)
def import_upload(request):
    form = TransactionUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        batch = form.start_import(user=request.user)
        if batch is not None:
            return redirect("retro-import-batch", pk=batch.pk)
    page = Paginator(_batches().defer("errors"), 20).get_page(request.GET.get("page"))
    return render(request, "retro/import.html", {"form": form, "page": page})


@login_required
@permission_required(PERMISSION, raise_exception=True)
def import_batch(request, pk):
    batch = get_object_or_404(_batches(), pk=pk)
    template = "retro/partials/import_progress.html" if request.htmx else "retro/import_batch.html"
    return render(request, template, {"batch": batch})


@login_required
@permission_required(PERMISSION, raise_exception=True)
def import_error_report(request, pk):
    batch = get_object_or_404(RetroImportBatch, pk=pk)
    response = StreamingHttpResponse(error_report_lines(batch), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="retro-import-{batch.pk}-errors.csv"'
    return response
