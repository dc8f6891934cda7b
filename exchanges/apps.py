from django.apps import AppConfig

from loyalty import plugins


class ExchangesConfig(AppConfig):
    name = "exchanges"
    verbose_name = "Exchanges"

    def ready(self):
        plugins.administer("exchanges")
