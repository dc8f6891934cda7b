"""The claims app's imports live on the shared import screen; these names lead there."""

from django.shortcuts import redirect
from django.urls import reverse

from claims.imports import ADJUSTMENTS, STAYS
from claims.views._common import needs


@needs("claims.add_stay")
def stay_import(request):
    return redirect(reverse("import-upload", args=[STAYS]))


@needs("claims.add_adjustmentbatch")
def adjustment_import(request):
    return redirect(reverse("import-upload", args=[ADJUSTMENTS]))
