"""The parsing thread's interpreter settings: changed while imports run, always put back."""

import gc
import sys

from retro.imports import pipeline


def test_overlapping_imports_put_the_interpreter_settings_back_once_both_are_done():
    before = (sys.getswitchinterval(), gc.get_threshold())
    first, second = pipeline._interpreter_tuned_for_imports(), pipeline._interpreter_tuned_for_imports()
    first.__enter__()
    second.__enter__()
    assert gc.get_threshold()[0] >= pipeline._GC_YOUNG_THRESHOLD
    first.__exit__(None, None, None)
    assert sys.getswitchinterval() <= pipeline._SWITCH_INTERVAL  # the second import still runs
    second.__exit__(None, None, None)
    assert (sys.getswitchinterval(), gc.get_threshold()) == before


def test_an_import_abandoned_half_way_puts_the_settings_back():
    class Parser:
        def parse(self, raw):
            return raw

    class Writer:
        def prepare(self, rows):
            return rows

    before = (sys.getswitchinterval(), gc.get_threshold())
    records = ((n, {"n": n}, None) for n in range(100))
    chunks = pipeline.parsed_chunks(Parser(), Writer(), records, chunk_size=10)
    first = next(chunks)
    assert first.good == 10
    chunks.close()
    assert (sys.getswitchinterval(), gc.get_threshold()) == before
