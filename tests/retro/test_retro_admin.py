"""Django admin for retro: every model lists, key edits recompute stored keys with visible progress."""

import pytest
from django.urls import reverse

from retro.models import RetroClaim, RetroClaimKey, RetroSettings, RetroTransaction
from retro.services import submit_retro_claim
from tests.retro.factories import (
    RetroClaimFactory,
    RetroTransactionFactory,
    key_values_of,
    member_in,
    recent_day,
    retro_program,
)

pytestmark = pytest.mark.django_db
MODELS = ["retroclaimkey", "retrosettings", "retrotransaction", "retroclaim", "retroimportbatch"]


@pytest.fixture
def program():
    return retro_program()


@pytest.fixture
def admin_client_(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("model", MODELS)
def test_every_retro_model_has_a_list(admin_client_, program, model):
    response = admin_client_.get(reverse(f"admin:retro_{model}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("model", MODELS)
def test_staff_screens_are_closed_to_a_csr(client, csr, model):
    client.force_login(csr)
    response = client.get(reverse(f"admin:retro_{model}_changelist"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def key_form(key, parts):
    data = {
        "program": key.program_id,
        "transaction_type": key.transaction_type,
        "fields-TOTAL_FORMS": str(len(parts)),
        "fields-INITIAL_FORMS": "0",
        "fields-MIN_NUM_FORMS": "1",
        "fields-MAX_NUM_FORMS": "1000",
    }
    for index, field in enumerate(parts):
        data[f"fields-{index}-position"] = str(index + 1)
        data[f"fields-{index}-field"] = field
        data[f"fields-{index}-attribute_name"] = ""
    return data


def test_changing_the_key_bumps_its_version_and_recomputes_stored_keys(
    admin_client_, program, django_capture_on_commit_callbacks
):
    txn = RetroTransactionFactory(program=program, reference="R-1")
    claim = submit_retro_claim(
        membership=member_in(program),
        channel="csr",
        submitted_by=None,
        key_values={
            "location_code": "PAR01",
            "transaction_date": recent_day(3).isoformat(),
            "reference": "R-2",
            "amount": "1.00",
        },
    )
    assert claim.status == "outstanding"
    key = RetroClaimKey.objects.get(program=program)
    key.fields.all().delete()
    url = reverse("admin:retro_retroclaimkey_change", args=[key.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(url, key_form(key, ["reference"]))
    assert response.status_code == 302, response.content.decode()[:2000]
    key.refresh_from_db()
    assert key.version == 2 and key.recompute_state == "idle"
    assert (key.recompute_done, key.recompute_total) == (2, 2)
    assert RetroTransaction.objects.get(pk=txn.pk).match_key == "r-1"
    claim = RetroClaim.objects.get(pk=claim.pk)
    assert (claim.match_key, claim.key_version) == ("r-2", 2)
    # The new key matches on reference alone from now on.
    matched = submit_retro_claim(
        membership=member_in(program),
        channel="csr",
        submitted_by=None,
        key_values={"reference": "r-1"},
        transaction_date=recent_day(),
    )
    assert matched.status == "matched"


def test_recompute_progress_is_visible_in_admin(admin_client_, program):
    RetroClaimKey.objects.filter(program=program).update(
        recompute_state="running", recompute_done=2500, recompute_total=10000
    )
    response = admin_client_.get(reverse("admin:retro_retroclaimkey_changelist"))
    assert "Recomputing · 2,500 / 10,000 (25%)" in response.content.decode()
    key = RetroClaimKey.objects.get(program=program)
    page = admin_client_.get(reverse("admin:retro_retroclaimkey_change", args=[key.pk])).content.decode()
    assert "2,500 / 10,000" in page and "Location code" in page


def test_claim_page_shows_its_transition_history_read_only(admin_client_, program, csr):
    txn = RetroTransactionFactory(program=program)
    claim = submit_retro_claim(
        membership=member_in(program), channel="csr", submitted_by=csr, key_values=key_values_of(txn)
    )
    page = admin_client_.get(reverse("admin:retro_retroclaim_change", args=[claim.pk])).content.decode()
    assert "mark_matched" in page and "Matched transaction" in page
    assert 'name="_save"' not in page  # read-only


def test_transactions_are_searchable_by_source_id_and_filterable(admin_client_, program):
    RetroTransactionFactory(program=program, source_id="POS-FIND-ME")
    RetroTransactionFactory(program=program, source_id="POS-OTHER")
    url = reverse("admin:retro_retrotransaction_changelist")
    page = admin_client_.get(url, {"q": "POS-FIND-ME"}).content.decode()
    assert "POS-FIND-ME" in page and "POS-OTHER" not in page
    assert "POS-OTHER" in admin_client_.get(url, {"claimed": "no"}).content.decode()


def test_the_daily_schedule_is_editable_in_admin(admin_client_):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="retro.reprocess_retro_claims")
    response = admin_client_.get(reverse("admin:django_celery_beat_periodictask_change", args=[task.pk]))
    assert response.status_code == 200


def test_a_new_key_is_defined_with_its_ordered_fields(admin_client_, django_capture_on_commit_callbacks):
    from tests.factories import ProgramFactory

    program = ProgramFactory(code="fresh", name="Fresh")
    assert admin_client_.get(reverse("admin:retro_retroclaimkey_add")).status_code == 200
    data = key_form(RetroClaimKey(program=program, transaction_type="stay"), ["reference", "transaction_date"])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(reverse("admin:retro_retroclaimkey_add"), data)
    assert response.status_code == 302
    key = RetroClaimKey.objects.get(program=program, transaction_type="stay")
    assert [f.form_name for f in key.fields.order_by("position")] == ["reference", "transaction_date"]
    assert key.recompute_state == "idle"


def test_rows_that_lack_a_new_key_field_can_no_longer_match(program, django_capture_on_commit_callbacks):
    from retro.models import RetroClaimKeyField
    from retro.services import schedule_key_recompute

    txn = RetroTransactionFactory(program=program)
    claim = submit_retro_claim(
        membership=member_in(program),
        channel="csr",
        submitted_by=None,
        key_values={"location_code": "X", "transaction_date": str(recent_day()), "reference": "Q", "amount": "1"},
    )
    key = RetroClaimKey.objects.get(program=program)
    RetroClaimKeyField.objects.create(key=key, position=9, field="attribute", attribute_name="till")
    with django_capture_on_commit_callbacks(execute=True):
        schedule_key_recompute(key=key)
    assert RetroTransaction.objects.get(pk=txn.pk).match_key == f"!t{txn.pk}"
    assert RetroClaim.objects.get(pk=claim.pk).match_key == f"!c{claim.pk}"
    assert RetroClaimKey.objects.get(pk=key.pk).recompute_state == "idle"


def outstanding_claims(program, count):
    values = {"location_code": "PAR01", "transaction_date": str(recent_day()), "amount": "1.00"}
    return [
        submit_retro_claim(
            membership=member_in(program),
            channel="csr",
            submitted_by=None,
            key_values={**values, "reference": f"NONE-{n}"},
        )
        for n in range(count)
    ]


def key_change(key, *, add=(), delete=()):
    """The change form as admin posts it: the key's parts (deleting those named in `delete`), then `add`.

    `add` holds field names, or (field, attribute name) pairs for named extra attributes.
    """
    existing = list(key.fields.order_by("position"))
    data = {
        "program": key.program_id,
        "transaction_type": key.transaction_type,
        "fields-TOTAL_FORMS": str(len(existing) + len(add)),
        "fields-INITIAL_FORMS": str(len(existing)),
        "fields-MIN_NUM_FORMS": "1",
        "fields-MAX_NUM_FORMS": "1000",
    }
    for index, part in enumerate(existing):
        data |= {f"fields-{index}-id": str(part.pk), f"fields-{index}-key": str(key.pk),
                 f"fields-{index}-position": str(part.position), f"fields-{index}-field": part.field,
                 f"fields-{index}-attribute_name": part.attribute_name}  # fmt: skip
        if part.field in delete:
            data[f"fields-{index}-DELETE"] = "on"
    for offset, part in enumerate(add):
        field, attribute = part if isinstance(part, tuple) else (part, "")
        index = len(existing) + offset
        data |= {f"fields-{index}-key": str(key.pk), f"fields-{index}-position": str(10 + offset),
                 f"fields-{index}-field": field, f"fields-{index}-attribute_name": attribute}  # fmt: skip
    return data


def test_adding_a_part_first_says_how_many_outstanding_claims_lack_it(
    admin_client_, program, django_capture_on_commit_callbacks
):
    claims = outstanding_claims(program, 2)
    key = RetroClaimKey.objects.get(program=program)
    url = reverse("admin:retro_retroclaimkey_change", args=[key.pk])
    data = key_change(key, add=[("attribute", "till")])

    response = admin_client_.post(url, data)
    html = response.content.decode()
    assert response.status_code == 200  # not saved: asked first
    assert "2 Outstanding claims of Shop Rewards · purchase have no value for till" in html
    assert 'name="confirm_unmatchable"' in html and "Save anyway" in html
    key.refresh_from_db()
    assert key.version == 1 and key.fields.count() == 4
    assert all(RetroClaim.objects.get(pk=c.pk).match_key == c.match_key for c in claims)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(url, {**data, "confirm_unmatchable": "on"}, follow=True)
    html = response.content.decode()
    key.refresh_from_db()
    assert key.version == 2 and key.fields.count() == 5
    assert {RetroClaim.objects.get(pk=c.pk).match_key for c in claims} == {f"!c{c.pk}" for c in claims}
    assert "2 Outstanding claims without a value for till can no longer match" in html
    assert "key_values=missing" in html
    change_page = admin_client_.get(url).content.decode()
    assert "2 Outstanding claims cannot match until a CSR completes their key values" in change_page
    assert 'name="confirm_unmatchable"' not in change_page  # never on a fresh form


def test_a_part_every_outstanding_claim_has_needs_no_confirmation(
    admin_client_, program, django_capture_on_commit_callbacks
):
    values = {"location_code": "PAR01", "transaction_date": str(recent_day()), "reference": "R", "amount": "1.00"}
    RetroClaimFactory(membership=member_in(program), key_values={**values, "currency": "EUR"})
    key = RetroClaimKey.objects.get(program=program)
    url = reverse("admin:retro_retroclaimkey_change", args=[key.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(url, key_change(key, add=["currency"]))
    assert response.status_code == 302
    assert RetroClaimKey.objects.get(pk=key.pk).version == 2


def test_removing_a_part_needs_no_confirmation(admin_client_, program, django_capture_on_commit_callbacks):
    outstanding_claims(program, 1)
    key = RetroClaimKey.objects.get(program=program)
    url = reverse("admin:retro_retroclaimkey_change", args=[key.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(url, key_change(key, delete=["amount"]))
    assert response.status_code == 302
    assert RetroClaimKey.objects.get(pk=key.pk).version == 2



def test_a_settings_form_breaking_a_rule_says_so_in_words(admin_client_, program):
    settings_row = RetroSettings.objects.get(program=program)
    url = reverse("admin:retro_retrosettings_change", args=[settings_row.pk])
    form = admin_client_.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(program=program.pk, submission_limit_count=5, submission_limit_days="", max_transaction_amount="0")
    response = admin_client_.post(url, data)
    errors = str(response.context["adminform"].form.errors)
    assert "A submission limit needs both a number of claims and a number of days." in errors, errors
    assert "The maximum amount must be more than zero." in errors, errors
    assert "is violated" not in response.content.decode()
