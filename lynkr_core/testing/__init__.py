"""Test helpers for lynkr and its plugins (fake upstream APIs, fixtures)."""
