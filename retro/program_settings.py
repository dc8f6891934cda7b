"""A program's retro settings: the stored row, created with the defaults the first time it is needed."""

from retro.models import RetroSettings


def ensure_settings(program) -> RetroSettings:
    retro_settings, _ = RetroSettings.objects.get_or_create(program=program)
    return retro_settings
