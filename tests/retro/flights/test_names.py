"""The coupon passenger name against the member's name, as the CSR's Verify step sees it."""

import pytest

from retro.flights.names import NEAR_MISS_SIMILARITY, NameCheck, NameResult, check_passenger_name, normalise


def check(coupon_name, first_name="John", last_name="Smith") -> NameCheck:
    return check_passenger_name(coupon_name, first_name, last_name)


def test_accents_hyphens_and_particles_on_the_member_side_are_ignored():
    result = check("DELACRUZ/JOSEMARIA MR", "José-María", "de la Cruz")

    assert result == NameCheck(
        NameResult.MATCH,
        100,
        "The name on the coupon, DELACRUZ/JOSEMARIA MR, matches the member José-María de la Cruz.",
        "DELACRUZ",
        "JOSEMARIA",
    )


@pytest.mark.parametrize("coupon_name", ["SMITH/JOHN MR", "SMITH/JOHN", "SMITH/JOHNMR", "SMITH/JOHNDR"])
def test_the_same_name_with_or_without_a_title_matches(coupon_name):
    result = check(coupon_name)

    assert (result.result, result.score, result.coupon_surname, result.coupon_given) == ("match", 100, "SMITH", "JOHN")
    assert result.message == f"The name on the coupon, {coupon_name}, matches the member John Smith."


@pytest.mark.parametrize("coupon_name", ["SMITH/JOHNA", "SMITH/JOHNAMR", "SMITH/JOHNA MR"])
def test_a_middle_initial_on_the_coupon_matches(coupon_name):
    assert check(coupon_name).result == NameResult.MATCH


def test_a_middle_name_after_a_space_matches():
    assert check("SMITH/JOHN ANDREW MR").result == NameResult.MATCH


def test_a_member_middle_name_missing_from_the_coupon_matches():
    assert check("SMITH/JOHN MR", "John Andrew").result == NameResult.MATCH


@pytest.mark.parametrize("coupon_name", ["SMITH/JOHNM", "SMITH/JOHNMIS", "SMITH/JOHNMST"])
def test_a_title_cut_short_by_the_airline_is_tolerated(coupon_name):
    result = check(coupon_name)

    assert (result.result, result.coupon_given) == (NameResult.MATCH, "JOHN")


def test_a_cut_title_is_only_read_when_it_makes_the_name_match():
    result = check("SMITH/JONM")

    assert (result.result, result.coupon_given) == (NameResult.NEAR_MISS, "JONM")


def test_a_given_name_that_ends_like_a_title_keeps_its_ending():
    assert check("SMITH/ALEXANDR", "Alexandr").result == NameResult.MATCH


def test_one_letter_off_in_the_given_name_is_a_near_miss_saying_what_differs():
    result = check("SMITH/JON")

    assert (result.result, result.score) == (NameResult.NEAR_MISS, 95)  # SMITH/JON against SMITH/JOHN
    assert result.message == (
        "The name on the coupon, SMITH/JON, is close to John Smith but not the same: "
        "given name JON on the coupon, JOHN on the member (similarity 95%)."
    )


def test_a_slightly_different_surname_is_a_near_miss():
    result = check("SMYTH/JOHN MR")

    assert (result.result, result.score) == (NameResult.NEAR_MISS, 90)
    assert "surname SMYTH on the coupon, SMITH on the member" in result.message
    assert "given name" not in result.message


def test_another_person_is_a_mismatch_naming_both_differences_and_the_score():
    result = check("JONES/MARY MRS")

    assert (result.result, result.score) == (NameResult.MISMATCH, 30)
    assert result.score < NEAR_MISS_SIMILARITY
    assert result.message == (
        "The name on the coupon, JONES/MARY MRS, does not match the member John Smith: "
        "surname JONES on the coupon, SMITH on the member; given name MARY on the coupon, JOHN on the member "
        "(similarity 30%)."
    )


@pytest.mark.parametrize("coupon_name", [None, "", "   "])
def test_a_coupon_without_a_name_is_missing_and_asks_for_another_check(coupon_name):
    result = check(coupon_name)

    assert (result.result, result.score, result.coupon_surname, result.coupon_given) == ("missing", 0, "", "")
    assert "no passenger name" in result.message
    assert "another way" in result.message


@pytest.mark.parametrize(
    ("coupon_name", "first_name", "last_name"),
    [
        ("MULLER/JURGEN MR", "Jürgen", "Müller"),
        ("OBRIEN/SEAN MR", "Seán", "O'Brien"),
        ("OBRIEN/SEAN MR", "Seán", "O’Brien"),
        ("LEFEVREMARTIN/JEROME", "Jérôme", "Lefèvre-Martin"),
    ],
)
def test_accents_apostrophes_and_hyphens_the_airline_dropped_still_match(coupon_name, first_name, last_name):
    assert check(coupon_name, first_name, last_name).result == NameResult.MATCH


def test_a_surname_cut_at_twenty_letters_matches_and_says_so():
    result = check("WOLFESCHLEGELSTEINHA/HUBERT MR", "Hubert", "Wolfeschlegelsteinhausen")

    assert result.result == NameResult.MATCH
    assert "cut the name short" in result.message


def test_a_short_surname_is_not_taken_for_a_cut_one():
    result = check("SMIT/JOHN MR")

    assert result.result == NameResult.NEAR_MISS
    assert "surname SMIT on the coupon, SMITH on the member" in result.message


def test_given_names_cut_at_the_end_of_a_long_field_match():
    assert check("SMITH/JOHNATHANALEXA", "Johnathan Alexander").result == NameResult.MATCH


def test_given_names_that_stop_short_in_a_short_field_are_a_near_miss():
    assert check("SMITH/JOHNATH", "Johnathan").result == NameResult.NEAR_MISS


def test_a_lower_case_name_from_a_csv_matches_and_is_shown_upper_case():
    result = check("  smith/john mr ")

    assert result.result == NameResult.MATCH
    assert result.message == "The name on the coupon, SMITH/JOHN MR, matches the member John Smith."


def test_a_lone_initial_is_a_near_miss_saying_only_the_initial_is_on_the_coupon():
    result = check("SMITH/J MR")

    assert (result.result, result.coupon_given) == (NameResult.NEAR_MISS, "J")
    assert "only the initial J" in result.message


def test_a_longer_given_name_glued_to_the_members_is_a_near_miss_for_the_csr():
    result = check("SMITH/JOHNATHAN")

    assert result.result == NameResult.NEAR_MISS
    assert "starts with JOHN" in result.message


@pytest.mark.parametrize("coupon_name", ["SMITH/", "SMITH/MR"])
def test_a_surname_without_given_names_is_a_near_miss(coupon_name):
    result = check(coupon_name)

    assert (result.result, result.coupon_given) == (NameResult.NEAR_MISS, "")
    assert "no given name" in result.message


@pytest.mark.parametrize(
    ("coupon_name", "expected"), [("JOHN SMITH", NameResult.NEAR_MISS), ("MARY JONES", NameResult.MISMATCH)]
)
def test_a_name_without_a_slash_is_compared_loosely_and_never_matches(coupon_name, expected):
    result = check(coupon_name)

    assert result.result == expected
    assert result.score < 100
    assert 'no "/"' in result.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("José-María", "JOSEMARIA"),
        ("de la Cruz", "DELACRUZ"),
        ("O’Brien", "OBRIEN"),
        ("St. John", "STJOHN"),
        ("Straße", "STRASSE"),
        ("Ærø", "AERO"),
        ("Łódź", "LODZ"),
        ("Đorđe", "DORDE"),
    ],
)
def test_normalise_writes_a_name_the_way_an_airline_does(text, expected):
    assert normalise(text) == expected
