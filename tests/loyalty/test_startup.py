"""A server process freezes what it loaded at startup (loyalty.wsgi): full collections then skip it."""

import gc
import sys

from loyalty.startup import freeze_loaded_objects


def test_the_views_are_loaded_and_frozen_before_the_first_request():
    try:
        freeze_loaded_objects()
        assert "claims.views.search" in sys.modules and "exchanges.api" in sys.modules
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
