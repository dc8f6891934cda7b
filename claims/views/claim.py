"""The Membership Claim screen (seed 002): new, edit or view a claim; its notes; the member chooser for New."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from claims import services
from claims.forms import ClaimForm, NoteForm
from claims.models import AdjustmentCode, MembershipClaim, RecordType, Stay
from claims.selectors import claim_chronology, claim_notes, claim_with_relations, may_submit_any, may_submit_for
from claims.views._common import claims_screen, needs, render_part
from loyalty import selectors as loyalty_selectors

EDIT = "claims.change_membershipclaim"
MEMBERS_SHOWN = 25


def _membership_or_404(number):
    membership = loyalty_selectors.membership_by_number(number)
    if membership is None:
        raise Http404(f"No membership has the number “{number}”.")
    return membership


def _prefill(request, membership):
    """A new claim opened from a stay row of the member's transactions (seed 002's New) starts from it."""
    initial = {"record_type": request.GET.get("record_type") or RecordType.STAY}
    stay = None
    stay_id = request.GET.get("stay", "")
    if stay_id.isdigit():
        stay = Stay.objects.filter(pk=stay_id, program=membership.program).select_related("hotel").first()
    if stay is not None:
        initial.update(
            hotel=stay.hotel_id, property_reservation_number=stay.property_reservation_number,
            central_reservation_number=stay.central_reservation_number, arrival_date=stay.arrival_date,
            departure_date=stay.departure_date,
        )  # fmt: skip
    return initial, stay


def _form(request, claim, *, data=None, initial=None):
    # claim.program, read with the claim: the membership's own program would be one more query.
    return ClaimForm(
        data, instance=claim, initial=initial, program=claim.program, user=request.user,
        editing=request.user.has_perm(EDIT), property_user=services.is_property_user(request.user),
    )  # fmt: skip


@claims_screen
def claim_new(request):
    """New claim for `membership`; with none chosen, the member search comes first (seed 002)."""
    number = request.GET.get("membership", "").strip()
    if not number:
        return _member_chooser(request)
    membership = _membership_or_404(number)
    if not may_submit_for(request.user, membership):
        raise PermissionDenied
    initial, stay = _prefill(request, membership)
    claim = MembershipClaim(membership=membership, program=membership.program)
    form = _form(request, claim, data=request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            claim = services.open_claim(membership=membership, by=request.user, values=form.values(), stay=stay)
        except ValidationError as error:
            form.apply_errors(error)
        else:
            messages.success(request, f"Claim {claim.pk} opened for {membership.member.full_name}.")
            return redirect("claim-detail", pk=claim.pk)
    context = {"form": form, "claim": claim, "membership": membership, "member": membership.member, "new": True,
               "stay": stay, "can_edit": True}  # fmt: skip
    return render(request, "claims/claim.html", context, status=400 if form.errors else 200)


def _member_chooser(request):
    if not may_submit_any(request.user):
        raise PermissionDenied
    text = request.GET.get("q", "").strip()
    memberships, too_many = [], False
    if text:
        ids = loyalty_selectors.membership_ids_named_at_most(text, cap=MEMBERS_SHOWN)
        too_many = ids is None
        if ids:
            memberships = loyalty_selectors.memberships_for_choice(ids, limit=MEMBERS_SHOWN)
    for membership in memberships:
        membership.may_submit = may_submit_for(request.user, membership)
    return render(request, "claims/choose_member.html",
                  {"q": text, "memberships": memberships, "too_many": too_many})  # fmt: skip


@claims_screen
def claim_new_for_member(request, member_number):
    """From the profile's More menu: a new claim for the member's membership (chosen when they have several)."""
    member = loyalty_selectors.member_with_memberships(member_number)
    if member is None:
        raise Http404(f"No member has the number “{member_number}”.")
    memberships = list(member.memberships.all())
    if len(memberships) == 1:
        return redirect(f"{reverse('claim-new')}?membership={memberships[0].membership_number}")
    return redirect(f"{reverse('claim-new')}?q={member.member_number}")


@claims_screen
def claim_detail(request, pk):
    claim = claim_with_relations(request.user, pk)
    if claim is None:
        raise Http404(f"No claim has the number {pk}.")
    can_edit = request.user.has_perm(EDIT)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied  # a view-only user's crafted POST changes nothing
    form = _form(request, claim, data=request.POST or None)
    if not can_edit:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            claim = services.update_claim(
                claim=claim, by=request.user, values=form.values(), status=data.get("status") or None,
                decision=data.get("decision") or None, note=data.get("note", ""),
            )  # fmt: skip
        except PermissionDenied:
            raise
        except ValidationError as error:
            form.apply_errors(error)
        else:
            messages.success(request, f"Claim {claim.pk} saved.")
            if "ok" in request.POST:
                return redirect("claim-search")
            return redirect("claim-detail", pk=claim.pk)
    context = {
        "form": form, "claim": claim, "membership": claim.membership, "member": claim.membership.member,
        "notes": claim_chronology(claim), "note_form": NoteForm(), "can_edit": can_edit,
        "can_add_note": request.user.has_perm("claims.add_claimnote"),
    }  # fmt: skip
    return render(request, "claims/claim.html", context, status=400 if form.errors else 200)


@needs("claims.add_claimnote")
def claim_note_add(request, pk):
    """Seed 002's New (MEMBERSHIP CLAIMS ACTIVITY NEW): a note at the end of the chronology."""
    claim = get_object_or_404(MembershipClaim, pk=pk)
    if request.method != "POST":
        return redirect("claim-detail", pk=pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.add_note(claim=claim, by=request.user, activity_type=form.cleaned_data["activity_type"],
                              text=form.cleaned_data["text"])  # fmt: skip
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
    if form.is_valid() and not form.errors:
        form = NoteForm()
    context = {"claim": claim, "notes": claim_chronology(claim), "note_form": form, "can_add_note": True}
    if request.htmx:
        return render(request, "claims/partials/notes.html", context, status=400 if form.errors else 200)
    if form.errors:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("claim-detail", pk=pk)


@claims_screen
def claim_note_view(request, pk, sequence):
    """Seed 002's View: the whole note, with its activity, author and time."""
    note = get_object_or_404(claim_notes(get_object_or_404(MembershipClaim, pk=pk)), sequence=sequence)
    return render_part(request, "claims/partials/note_view.html", {"note": note, "claim": note.claim},
                       title=f"Claim {pk} note {sequence}")  # fmt: skip


@claims_screen
def adjustment_code_thresholds(request):
    """The chosen adjustment code's thresholds, shown beside the values (seed 002)."""
    code_id = request.GET.get("adjustment_code", "")
    code = AdjustmentCode.objects.filter(pk=code_id).first() if code_id.isdigit() else None
    return render(request, "claims/partials/thresholds.html", {"code": code})
