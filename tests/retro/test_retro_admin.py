"""Django admin for retro: every model lists, key edits recompute stored keys with visible progress."""

import pytest
from django.urls import reverse

from retro.models import RetroClaim, RetroClaimKey, RetroTransaction
from retro.services import submit_retro_claim
from tests.retro.factories import RetroTransactionFactory, key_values_of, member_in, recent_day, retro_program

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
