"""The app collects garbage rarely enough that 10,000 open streams do not pause it."""

import gc

from app.gc_tuning import THRESHOLDS


def test_thresholds_apply_while_the_app_runs_and_are_restored(start_server, settings):
    before = gc.get_threshold()
    server = start_server(settings)
    assert gc.get_threshold() == THRESHOLDS
    assert gc.get_freeze_count() > 0
    server.stop()
    assert gc.get_threshold() == before
