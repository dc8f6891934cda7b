"""Retro transactions API routes (under /api/retro/)."""

from django.urls import path

from retro.api import transactions

urlpatterns = [
    path("transactions/", transactions.RetroTransactionSearchView.as_view(), name="api-retro-transactions"),
    path("transactions/batch/", transactions.TransactionBatchView.as_view(), name="api-retro-transactions-batch"),
]
