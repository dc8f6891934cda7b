"""Retro transaction import screens: upload a CSV, follow its progress, download its error report."""

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from retro.imports.forms import TransactionUploadForm
from retro.imports.report import error_report_lines
from retro.imports.uploads import UploadSizeCap
from retro.models import RetroImportBatch

PERMISSION = "retro.add_retrotransaction"
# Rejected rows shown on the batch page; the rest are in the error report.
ERRORS_SHOWN = 10


def _batches():
    return RetroImportBatch.objects.select_related("program", "started_by").order_by("-started_at", "-id")


# csrf_exempt outside, csrf_protect inside: the CSRF check reads request.POST, after which the upload
# handlers can no longer change, and the size cap must be in place before the body is read.
@login_required
@permission_required(PERMISSION, raise_exception=True)
@csrf_exempt
def import_upload(request):
    size_cap = UploadSizeCap(request)
    request.upload_handlers.insert(0, size_cap)
    return _import_upload(request, size_cap)


@csrf_protect
def _import_upload(request, size_cap):
    form = TransactionUploadForm(request.POST or None, request.FILES or None, upload_too_large=size_cap.too_large)
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
    errors = batch.errors or []
    context = {
        "batch": batch,
        "row_errors": [e for e in errors if e.get("row") is not None][:ERRORS_SHOWN],
        "file_notes": [e["reason"] for e in errors if e.get("row") is None],
    }
    return render(request, template, context)


@login_required
@permission_required(PERMISSION, raise_exception=True)
def import_error_report(request, pk):
    batch = get_object_or_404(RetroImportBatch, pk=pk)
    response = StreamingHttpResponse(error_report_lines(batch), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="retro-import-{batch.pk}-errors.csv"'
    return response
