"""Fixtures of the membership claims tests: a hotel program and a member of it."""

import pytest

from tests.claims.factories import hotel_program, membership_in


@pytest.fixture
def program(db):
    return hotel_program()


@pytest.fixture
def membership(program):
    return membership_in(program)
