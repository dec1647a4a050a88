"""Builders of test documents shared by every test layer."""
