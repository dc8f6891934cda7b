from django.apps import AppConfig


class RetroConfig(AppConfig):
    name = "retro"
    verbose_name = "Retro claims"

    def ready(self):
        # Registers the Celery task names that services queue (loyalty.background.queue_task).
        from retro import tasks  # noqa: F401
