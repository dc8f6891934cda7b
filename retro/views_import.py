"""Import screens, one per kind (retro transactions, flights): upload a CSV, follow it, get its error report."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from retro.imports.forms import UploadForm
from retro.imports.kinds import KINDS
from retro.imports.report import error_report_lines
from retro.imports.uploads import UploadSizeCap
from retro.models import RetroImportBatch

# Rejected rows shown on the batch page; the rest are in the error report.
ERRORS_SHOWN = 10


def _batches():
    return RetroImportBatch.objects.select_related("program", "started_by").order_by("-started_at", "-id")


def _check(request, kind):
    """The kind's permission; a signed-in user without it gets the 403 page (login_required runs first)."""
    if kind not in KINDS:
        raise Http404(f"There is no import of “{kind}”.")
    if not request.user.has_perm(KINDS[kind].permission):
        raise PermissionDenied


# csrf_exempt outside, csrf_protect inside: the CSRF check reads request.POST, after which the upload
# handlers can no longer change, and the size cap must be in place before the body is read.
@login_required
@csrf_exempt
def import_upload(request, kind="transactions"):
    _check(request, kind)
    size_cap = UploadSizeCap(request)
    request.upload_handlers.insert(0, size_cap)
    return _import_upload(request, size_cap, kind)


@csrf_protect
def _import_upload(request, size_cap, kind):
    form = UploadForm(request.POST or None, request.FILES or None, upload_too_large=size_cap.too_large, kind=kind)
    if request.method == "POST" and form.is_valid():
        batch = form.start_import(user=request.user)
        if batch is not None:
            return redirect("retro-import-batch", pk=batch.pk)
    page = Paginator(_batches().filter(kind=kind).defer("errors"), 20).get_page(request.GET.get("page"))
    return render(request, "retro/import.html", {"form": form, "page": page, "kind": KINDS[kind]})


@login_required
def import_batch(request, pk):
    batch = get_object_or_404(_batches(), pk=pk)
    _check(request, batch.kind)
    template = "retro/partials/import_progress.html" if request.htmx else "retro/import_batch.html"
    errors = batch.errors or []
    context = {
        "batch": batch,
        "kind": KINDS[batch.kind],
        "row_errors": [e for e in errors if e.get("row") is not None][:ERRORS_SHOWN],
        "file_notes": [e["reason"] for e in errors if e.get("row") is None],
    }
    return render(request, template, context)


@login_required
def import_error_report(request, pk):
    batch = get_object_or_404(RetroImportBatch, pk=pk)
    _check(request, batch.kind)
    response = StreamingHttpResponse(error_report_lines(batch), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{batch.kind}-import-{batch.pk}-errors.csv"'
    return response
