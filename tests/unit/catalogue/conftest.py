"""Fixtures of the catalogue, theme and demand service tests."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.factories import CatalogueWorld, build_catalogue_world


@pytest.fixture
def cw(ctx: Flask) -> CatalogueWorld:
    return build_catalogue_world()
