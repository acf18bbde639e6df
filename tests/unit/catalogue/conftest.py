"""Fixtures of the catalogue, theme and demand service tests."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.factories import CatalogueWorld, build_catalogue_world


@pytest.fixture
def cw(ctx: Flask, snapshot: Any) -> CatalogueWorld:
    return snapshot(build_catalogue_world)  # built once per test process
