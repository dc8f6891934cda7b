"""Importing retro transactions into the pool: one service for the upload screen, the command and the API."""
