"""The exchanges app (seed 004) plugs its booking-engine API and admin into the core."""

from django.apps import AppConfig

from loyalty import plugins


class ExchangesConfig(AppConfig):
    name = "exchanges"
    verbose_name = "Exchanges"

    def ready(self):
        plugins.add_urls("exchanges/", "exchanges.urls_api", api=True)
        plugins.administer("exchanges")
